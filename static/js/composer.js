// The reply composer (mail and chat alike): quick replies after "/", files dropped on the form.
// Listeners sit on the document, so an editor htmx swaps in (a canned response) keeps them.
(() => {
  if (window.composerListening) return;
  window.composerListening = true;
  const script = document.currentScript;
  const text = (name) => (script && script.dataset[name]) || "";
  const icon = (name) => {
    const element = document.createElement("i");
    element.className = `bi ${name}`;
    element.setAttribute("aria-hidden", "true");
    return element;
  };

  // --- quick replies: "/" then a few letters shows the matching canned responses --------
  const TOKEN = /(^|\s)\/([\p{L}\p{N}_-]{0,30})$/u;
  let menu = null; // {area, items, active, start, list}
  let pending = null;
  let asked = 0;

  const close = () => {
    if (menu) menu.list.remove();
    menu = null;
  };

  const tokenAt = (area) => {
    const before = area.value.slice(0, area.selectionStart);
    const found = before.match(TOKEN);
    if (!found) return null;
    return { term: found[2], start: before.length - found[2].length - 1 };
  };

  const render = (area, items, start) => {
    // The same list again (a slower answer to an earlier letter): keep the agent's choice.
    const same = menu && menu.area === area && menu.start === start &&
      menu.items.map((item) => item.id).join() === items.map((item) => item.id).join();
    const active = same ? menu.active : 0;
    close();
    const list = document.createElement("div");
    list.className = "list-group shadow quick-reply-menu";
    list.setAttribute("role", "listbox");
    list.id = "quick-reply-menu";
    if (!items.length) {
      const empty = document.createElement("div");
      empty.className = "list-group-item small text-body-secondary";
      empty.textContent = text("noMatch");
      list.append(empty);
    }
    items.forEach((item, index) => {
      const option = document.createElement("button");
      option.type = "button";
      option.className = "list-group-item list-group-item-action quick-reply-option";
      option.setAttribute("role", "option");
      option.dataset.index = String(index);
      const title = document.createElement("div");
      title.className = "fw-semibold small";
      title.textContent = item.title;
      if (item.files) title.append(" ", icon("bi-paperclip"));
      const preview = document.createElement("div");
      preview.className = "small text-body-secondary text-truncate";
      preview.textContent = item.text;
      option.append(title, preview);
      // mousedown, not click: the textarea keeps its focus and cursor.
      option.addEventListener("mousedown", (event) => {
        event.preventDefault();
        insert(index);
      });
      list.append(option);
    });
    const holder = area.parentElement;
    holder.classList.add("composer-field");
    holder.append(list);
    menu = { area, items, active, start, list };
    highlight();
  };

  const highlight = () => {
    if (!menu) return;
    menu.list.querySelectorAll(".quick-reply-option").forEach((option, index) => {
      option.classList.toggle("active", index === menu.active);
      option.setAttribute("aria-selected", index === menu.active ? "true" : "false");
      if (index === menu.active) option.scrollIntoView({ block: "nearest" });
    });
  };

  const insert = (index) => {
    if (!menu || !menu.items[index]) return;
    const { area, start } = menu;
    const item = menu.items[index];
    const end = area.selectionStart;
    area.value = area.value.slice(0, start) + item.text + area.value.slice(end);
    const cursor = start + item.text.length;
    area.setSelectionRange(cursor, cursor);
    // The reply then carries the response's files (the server checks it may be used).
    const hidden = area.form && area.form.querySelector("input[name=canned_response]");
    if (hidden) hidden.value = String(item.id);
    close();
    area.focus();
    area.dispatchEvent(new Event("input", { bubbles: true }));
  };

  document.addEventListener("input", (event) => {
    const area = event.target.closest && event.target.closest("textarea[data-quick-replies]");
    if (!area) return;
    const token = tokenAt(area);
    if (!token) {
      close();
      return;
    }
    clearTimeout(pending);
    pending = setTimeout(async () => {
      const mine = ++asked;
      const url = `${area.dataset.quickReplies}?q=${encodeURIComponent(token.term)}`;
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const data = await response.json();
      if (mine !== asked) return; // a later letter asked again
      const still = tokenAt(area);
      if (still && still.start === token.start) render(area, data.results, token.start);
    }, 150);
  });

  document.addEventListener("keydown", (event) => {
    if (!menu || event.target !== menu.area) return;
    const count = menu.items.length;
    if (event.key === "ArrowDown" && count) {
      menu.active = (menu.active + 1) % count;
      highlight();
    } else if (event.key === "ArrowUp" && count) {
      menu.active = (menu.active - 1 + count) % count;
      highlight();
    } else if ((event.key === "Enter" || event.key === "Tab") && count) {
      insert(menu.active);
    } else if (event.key === "Escape") {
      close();
    } else {
      return;
    }
    event.preventDefault();
  });

  document.addEventListener("focusout", (event) => {
    if (menu && event.target === menu.area) setTimeout(close, 150);
  });

  // --- files dropped on a form with a file input: the same input, the same limit -------
  const fileInputOf = (element) => {
    const form = element && element.closest && element.closest("form");
    return form && form.querySelector("input[type=file][data-max-bytes]");
  };

  const listFiles = (input, refused) => {
    let box = input.parentElement.querySelector(".dropped-files");
    if (!box) {
      box = document.createElement("div");
      box.className = "dropped-files small mt-1";
      box.setAttribute("aria-live", "polite");
      input.insertAdjacentElement("afterend", box);
    }
    box.replaceChildren();
    if (input.files.length) {
      const label = document.createElement("div");
      label.className = "text-body-secondary";
      label.textContent = text("filesLabel");
      box.append(label);
    }
    for (const file of input.files) {
      const row = document.createElement("div");
      row.className = "dropped-file";
      row.append(icon("bi-paperclip"), ` ${file.name}`);
      box.append(row);
    }
    for (const name of refused) {
      const row = document.createElement("div");
      row.className = "text-danger dropped-file-refused";
      row.textContent = `${name} ${text("tooLarge")}`;
      box.append(row);
    }
  };

  document.addEventListener("dragover", (event) => {
    const input = fileInputOf(event.target);
    if (!input || !event.dataTransfer || !event.dataTransfer.types.includes("Files")) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    input.form.classList.add("drop-target");
    input.form.title = text("dropHint");
  });

  document.addEventListener("dragleave", (event) => {
    const input = fileInputOf(event.target);
    if (input && !input.form.contains(event.relatedTarget)) {
      input.form.classList.remove("drop-target");
    }
  });

  document.addEventListener("drop", (event) => {
    const input = fileInputOf(event.target);
    if (!input || !event.dataTransfer || !event.dataTransfer.files.length) return;
    event.preventDefault();
    input.form.classList.remove("drop-target");
    const limit = Number(input.dataset.maxBytes) || Infinity;
    const files = new DataTransfer();
    for (const file of input.files) files.items.add(file);
    const refused = [];
    for (const file of event.dataTransfer.files) {
      if (file.size > limit) refused.push(file.name);
      else files.items.add(file);
    }
    input.files = files.files;
    listFiles(input, refused);
  });

  document.addEventListener("change", (event) => {
    if (event.target.matches && event.target.matches("input[type=file][data-max-bytes]")) {
      listFiles(event.target, []);
    }
  });
})();
