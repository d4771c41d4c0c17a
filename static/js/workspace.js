// The agent workspace: bulk selection on the queue and the keyboard shortcuts.
// The help overlay is rendered (and translated) by the server in base.html.
(() => {
  const QUEUE_KEY = "helpdesk.queue";

  // --- Bulk bar -----------------------------------------------------------------------
  // Listeners sit on the document: a live refresh replaces the bar and the rows.
  const bulkForm = () => document.getElementById("bulk-form");
  const checks = () => Array.from(document.querySelectorAll(".bulk-check"));
  const updateBulk = () => {
    const label = document.getElementById("bulk-selected");
    if (!label) return;
    const ticked = checks().filter((box) => box.checked).length;
    label.textContent = label.dataset.template.replace("%(count)s", ticked);
    const all = document.getElementById("bulk-all");
    if (all) {
      all.checked = ticked > 0 && ticked === checks().length;
      all.indeterminate = ticked > 0 && ticked < checks().length;
    }
  };
  const showValueField = () => {
    const form = bulkForm();
    if (!form) return;
    const action = form.querySelector("[name=action]").value;
    for (const span of form.querySelectorAll("[data-bulk-for]")) {
      span.hidden = !span.dataset.bulkFor.split(" ").includes(action);
    }
  };
  document.addEventListener("change", (event) => {
    if (event.target.id === "bulk-all") {
      for (const box of checks()) box.checked = event.target.checked;
    }
    if (event.target.matches(".bulk-check, #bulk-all")) updateBulk();
    if (event.target.id === "bulk-action") showValueField();
  });
  document.addEventListener("submit", (event) => {
    if (event.target.id !== "bulk-form") return;
    const button = document.getElementById("bulk-apply");
    const action = event.target.querySelector("[name=action]").value;
    if (action === "merge" && !window.confirm(button.dataset.confirmMerge)) event.preventDefault();
  });
  showValueField();
  updateBulk();
  // A live refresh would untick the boxes: wait while the agent has tickets selected.
  document.addEventListener("htmx:beforeRequest", (event) => {
    const source = event.detail.elt;
    if (source && source.querySelector && source.querySelector("#queue-results")) {
      if (checks().some((box) => box.checked)) event.preventDefault();
    }
  });
  document.addEventListener("htmx:afterSwap", () => {
    rememberQueue();
    showValueField();
    updateBulk();
  });

  // --- Queue order, for j/k on the ticket page --------------------------------------------
  const queueRows = () => Array.from(document.querySelectorAll("#queue-table tbody tr[data-ticket-url]"));
  function rememberQueue() {
    const rows = queueRows();
    if (!document.getElementById("queue-table")) return;
    try {
      sessionStorage.setItem(
        QUEUE_KEY,
        JSON.stringify({ queue: location.pathname + location.search, urls: rows.map((row) => row.dataset.ticketUrl) }),
      );
    } catch (error) {
      // Private mode or full storage: j/k on the ticket page just do nothing.
    }
  }
  rememberQueue();

  const storedQueue = () => {
    try {
      return JSON.parse(sessionStorage.getItem(QUEUE_KEY) || "null");
    } catch (error) {
      return null;
    }
  };

  // --- Keyboard shortcuts --------------------------------------------------------------------
  const help = document.getElementById("shortcut-help");
  const typing = (target) =>
    target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);

  let current = -1;
  const highlight = (index) => {
    const rows = queueRows();
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach((row, i) => row.classList.toggle("kb-current", i === current));
    rows[current].scrollIntoView({ block: "nearest" });
  };

  const step = (delta) => {
    if (document.getElementById("queue-table")) {
      highlight(current < 0 ? 0 : current + delta);
      return;
    }
    const here = document.getElementById("queue-position");
    const stored = storedQueue();
    if (!here || !stored) return;
    const index = stored.urls.indexOf(here.dataset.ticketUrl);
    const next = index < 0 ? -1 : index + delta;
    if (next >= 0 && next < stored.urls.length) location.assign(stored.urls[next]);
  };

  const focusComposer = (tabId, paneId) => {
    const tab = document.getElementById(tabId);
    if (!tab) return;
    tab.click();
    const field = document.querySelector(`#${paneId} textarea`);
    if (field) window.setTimeout(() => field.focus(), 200);
  };

  const toggleHelp = (show) => {
    if (!help) return;
    help.hidden = show === undefined ? !help.hidden : !show;
    if (!help.hidden) help.querySelector("button")?.focus();
  };

  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-close-help]")) toggleHelp(false);
  });

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      if (help && !help.hidden) toggleHelp(false);
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    const rows = queueRows();
    switch (event.key) {
      case "j": step(1); break;
      case "k": step(-1); break;
      case "Enter":
        if (event.target !== document.body) return;
      // falls through
      case "o":
        if (current >= 0 && rows[current]) location.assign(rows[current].dataset.ticketUrl);
        else return;
        break;
      case "x":
        if (current >= 0 && rows[current]) {
          const box = rows[current].querySelector(".bulk-check");
          if (box) {
            box.checked = !box.checked;
            updateBulk();
          }
        } else return;
        break;
      case "r": focusComposer("reply-tab", "reply-pane"); break;
      case "n": focusComposer("note-tab", "note-pane"); break;
      case "/": {
        const search = document.querySelector("aside input[name=q]");
        if (search) {
          search.closest(".collapse")?.classList.add("show");
          search.focus();
        }
        else if (help && help.dataset.queueUrl) location.assign(`${help.dataset.queueUrl}?focus=search`);
        break;
      }
      case "?": toggleHelp(); break;
      default: return;
    }
    event.preventDefault();
  });

  // "/" from another page lands on the queue with the search box focused.
  if (new URLSearchParams(location.search).get("focus") === "search") {
    const search = document.querySelector("aside input[name=q]");
    search?.closest(".collapse")?.classList.add("show");
    search?.focus();
  }
})();
