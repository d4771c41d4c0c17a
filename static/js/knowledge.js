// Knowledge base: insert an article's text or link (or an image's Markdown) into a textarea
// at the cursor. Buttons carry data-kb-insert (the text) and data-kb-target (a selector).
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-kb-insert]");
  if (!button) return;
  const area = document.querySelector(button.dataset.kbTarget);
  if (!area) return;
  event.preventDefault();
  const text = button.dataset.kbInsert;
  const start = area.selectionStart ?? area.value.length;
  const end = area.selectionEnd ?? area.value.length;
  const before = area.value.slice(0, start);
  const gap = before && !before.endsWith("\n") ? "\n\n" : "";
  area.value = before + gap + text + area.value.slice(end);
  const cursor = (before + gap + text).length;
  area.setSelectionRange(cursor, cursor);
  area.focus();
  area.dispatchEvent(new Event("input", { bubbles: true }));
});

// The article editor: show the preview as soon as its tab opens (htmx renders it).
document.addEventListener("shown.bs.tab", (event) => {
  if (event.target.id !== "preview-tab") return;
  const area = document.querySelector("#article-form textarea[name=body]");
  if (area && window.htmx) window.htmx.trigger(area, "input");
});
