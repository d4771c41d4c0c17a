// The website chat widget: embedded by a company's site with
//   <script src="https://helpdesk.example/static/chat/widget.js" data-channel="<public key>" defer></script>
// (optional: data-lang="pt-BR", data-server="https://helpdesk.example"). Plain script, no
// framework: a launcher button and a panel in a shadow root (the host page's styles cannot
// reach it, ours cannot leak), talking to /chat/widget/<key>/... on the helpdesk's origin.
// Its words come from the server, translated in the visitor's language. The visitor's
// conversation is named by the token the server hands back (kept in localStorage), sent
// as X-Chat-Visitor; agents' replies arrive on a server-sent-events stream.
(() => {
  const script = document.currentScript;
  if (!script || !script.dataset.channel || window.helpdeskChatWidget) return;
  const channel = script.dataset.channel;
  const server = script.dataset.server || new URL(script.src).origin;
  const root = `${server}/chat/widget/${encodeURIComponent(channel)}/`;
  const language = script.dataset.lang || document.documentElement.lang || navigator.language || "en";
  const storeKey = `helpdesk-chat:${channel}`;
  const TYPING_EVERY = 3000;

  let token = "";
  try {
    token = localStorage.getItem(storeKey) || "";
  } catch {
    token = "";
  }
  let config = null;
  let strings = {};
  let lastId = 0;
  let lastOutId = 0;
  let source = null;
  let retryDelay = 1000;
  let lastTyping = 0;
  let agentTypingTimer = null;
  let email = "";
  const shown = new Set();

  const element = (tag, attributes = {}, children = []) => {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (name === "text") node.textContent = value;
      else if (value !== false && value !== null && value !== undefined) node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) node.append(child);
    return node;
  };

  const request = async (path, { method = "GET", body = null, json = null } = {}) => {
    const headers = {};
    if (token) headers["X-Chat-Visitor"] = token;
    if (json !== null) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    }
    const separator = path.includes("?") ? "&" : "?";
    const response = await fetch(`${root}${path}${separator}lang=${encodeURIComponent(language)}`, {
      method,
      body,
      headers,
      mode: "cors",
      credentials: "omit",
    });
    let data = {};
    try {
      data = await response.json();
    } catch {
      data = {};
    }
    if (!response.ok) throw Object.assign(new Error(data.error || strings.error), { status: response.status });
    return data;
  };

  // Two small line icons of our own, as SVG: an emoji needs a font the visitor may lack.
  const ICONS = {
    clip: "M10.5 4.5v6.5a2.5 2.5 0 0 1-5 0V3.5a1.75 1.75 0 0 1 3.5 0V10.5a.75.75 0 0 1-1.5 0V5",
    file: "M4 1.5h5l3 3v10H4z M9 1.5v3h3",
  };
  const icon = (name) => {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 16 16");
    svg.setAttribute("class", "icon");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", ICONS[name]);
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "1.3");
    path.setAttribute("stroke-linecap", "round");
    path.setAttribute("stroke-linejoin", "round");
    svg.append(path);
    return svg;
  };

  // --- the panel ------------------------------------------------------------------------
  const host = element("div", { id: "helpdesk-chat-widget" });
  const shadow = host.attachShadow({ mode: "open" });
  const css = element("link", { rel: "stylesheet", href: new URL("widget.css", script.src).href });
  const launcher = element("button", { type: "button", class: "launcher", "aria-expanded": "false" });
  const panel = element("section", { class: "panel", role: "dialog", hidden: true });
  const title = element("h2", { class: "title" });
  const closeButton = element("button", { type: "button", class: "close" , text: "×"});
  const notice = element("p", { class: "notice", hidden: true });
  const intro = element("div", { class: "intro" });
  const introText = element("p", { class: "intro-text" });
  const searchForm = element("form", { class: "search", role: "search" });
  const searchInput = element("input", { type: "search", name: "q", maxlength: "200" });
  const searchButton = element("button", { type: "submit" });
  const results = element("ul", { class: "results" });
  const prechat = element("div", { class: "prechat" });
  const nameInput = element("input", { type: "text", name: "name", maxlength: "100", autocomplete: "name" });
  const emailInput = element("input", { type: "email", name: "email", maxlength: "254", autocomplete: "email" });
  // Hidden from people (and from screen readers); robots fill every field they find.
  const honeypot = element("input", { type: "text", name: "website", tabindex: "-1", autocomplete: "off", class: "hp", "aria-hidden": "true" });
  const list = element("ol", { class: "messages", "aria-live": "polite" });
  const typingNote = element("p", { class: "typing", role: "status", hidden: true });
  const composer = element("form", { class: "composer" });
  const textInput = element("textarea", { name: "text", rows: "2" });
  const fileInput = element("input", { type: "file", name: "files", multiple: true, class: "file" });
  const attachLabel = element("label", { class: "attach" }, [fileInput, icon("clip")]);
  const chosen = element("p", { class: "chosen" });
  const sendButton = element("button", { type: "submit", class: "send" });
  const errorLine = element("p", { class: "error", role: "alert" });
  const footer = element("div", { class: "footer" });
  const transcriptButton = element("button", { type: "button", class: "link transcript", hidden: true });
  const transcriptForm = element("form", { class: "transcript-form", hidden: true });
  const transcriptEmail = element("input", { type: "email", name: "email", required: true });
  const transcriptSend = element("button", { type: "submit" });

  searchForm.append(searchInput, searchButton);
  prechat.append(nameInput, emailInput, honeypot);
  intro.append(introText, searchForm, results, prechat);
  composer.append(attachLabel, textInput, sendButton);
  transcriptForm.append(transcriptEmail, transcriptSend);
  footer.append(transcriptButton, transcriptForm);
  panel.append(
    element("header", {}, [title, closeButton]),
    notice,
    intro,
    list,
    typingNote,
    chosen,
    errorLine,
    composer,
    footer,
  );
  shadow.append(css, launcher, panel);

  const applyStrings = () => {
    launcher.textContent = strings.launcher;
    launcher.setAttribute("aria-label", strings.launcher);
    title.textContent = strings.title;
    panel.setAttribute("aria-label", strings.title);
    closeButton.setAttribute("aria-label", strings.close);
    introText.textContent = strings.intro;
    searchInput.placeholder = strings.search_placeholder;
    searchInput.setAttribute("aria-label", strings.search_placeholder);
    searchButton.textContent = strings.search;
    nameInput.placeholder = strings.name;
    nameInput.setAttribute("aria-label", strings.name);
    emailInput.placeholder = strings.email;
    emailInput.setAttribute("aria-label", strings.email);
    textInput.placeholder = strings.message_placeholder;
    textInput.setAttribute("aria-label", strings.message_placeholder);
    fileInput.setAttribute("aria-label", strings.attach);
    attachLabel.title = strings.attach;
    sendButton.textContent = strings.send;
    transcriptButton.textContent = strings.transcript;
    transcriptEmail.placeholder = strings.transcript_email;
    transcriptEmail.setAttribute("aria-label", strings.transcript_email);
    transcriptSend.textContent = strings.send;
  };

  // --- messages --------------------------------------------------------------------------
  const showFile = async (file, into) => {
    // Fetched with the token (never in a URL a page could leak), shown from a blob.
    const response = await fetch(`${server}${file.url}`, { headers: { "X-Chat-Visitor": token }, credentials: "omit" });
    if (!response.ok) return;
    const url = URL.createObjectURL(await response.blob());
    const link = element("a", { href: url, download: file.name, class: "file-link" });
    if (file.type.startsWith("image/")) link.append(element("img", { src: url, alt: file.name, class: "image" }));
    else link.append(icon("file"), document.createTextNode(` ${file.name}`));
    into.append(link);
  };

  const render = (message) => {
    if (shown.has(message.id)) return;
    shown.add(message.id);
    lastId = Math.max(lastId, message.id);
    if (message.direction === "out") lastOutId = Math.max(lastOutId, message.id);
    const mine = message.direction === "in";
    const bubble = element("li", { class: `bubble ${mine ? "mine" : "theirs"}`, "data-id": String(message.id) });
    bubble.append(element("span", { class: "author", text: mine ? strings.you : message.author || strings.support }));
    if (message.text) bubble.append(element("p", { class: "text", text: message.text }));
    const files = element("div", { class: "files" });
    bubble.append(files);
    for (const file of message.files) showFile(file, files);
    const time = new Date(message.at);
    bubble.append(element("time", { datetime: message.at, text: time.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) }));
    list.append(bubble);
    list.scrollTop = list.scrollHeight;
  };

  const started = () => {
    intro.hidden = true;
    transcriptButton.hidden = false;
  };

  const reportSeen = () => {
    if (!token || !lastOutId) return;
    const state = !panel.hidden && document.visibilityState === "visible" ? "read" : "delivered";
    request("seen/", { method: "POST", json: { up_to: lastOutId, state } }).catch(() => {});
  };

  // "Ana is typing…" while an agent writes a reply (chat.agent_typing on our topic); it goes
  // when their reply arrives, or by itself when the signals stop (a closed tab).
  const hideAgentTyping = () => {
    clearTimeout(agentTypingTimer);
    typingNote.hidden = true;
  };
  const showAgentTyping = (data) => {
    const name = data && typeof data.name === "string" ? data.name : "";
    typingNote.textContent = name ? strings.agent_typing.replace("%(name)s", name) : strings.agent_typing_unnamed;
    typingNote.hidden = false;
    clearTimeout(agentTypingTimer);
    const seconds = Math.min(Math.max(Number(data && data.expires_in) || 6, 1), 30);
    agentTypingTimer = setTimeout(hideAgentTyping, seconds * 1000);
  };

  const fetchNew = async () => {
    if (!token) return;
    const data = await request(`messages/?after=${lastId}`);
    const before = lastOutId;
    for (const message of data.messages) render(message);
    if (lastOutId > before) {
      hideAgentTyping();
      reportSeen();
    }
  };

  // --- live: the visitor's own conversation topic --------------------------------------------
  const follow = () => {
    if (!token || !config) return;
    if (source) source.close();
    source = new EventSource(`${server}${config.stream}?visitor=${encodeURIComponent(token)}`);
    source.onopen = () => {
      retryDelay = 1000;
      host.dataset.live = "connected";
      fetchNew().catch(() => {});
    };
    source.onmessage = (event) => {
      let payload;
      try {
        payload = JSON.parse(event.data);
      } catch {
        return;
      }
      if (payload.event === "chat.agent_typing") showAgentTyping(payload.data);
      else if (payload.event === "chat.message" || payload.event === "live.resync") fetchNew().catch(() => {});
    };
    source.onerror = () => {
      host.dataset.live = "disconnected";
      if (source.readyState !== EventSource.CLOSED) return; // the browser reconnects itself
      setTimeout(follow, retryDelay + Math.random() * 300);
      retryDelay = Math.min(retryDelay * 2, 30000);
    };
  };

  // --- sending ---------------------------------------------------------------------------------
  const send = async () => {
    const text = textInput.value.trim();
    const files = Array.from(fileInput.files || []);
    if (!text && !files.length) return;
    if (files.some((file) => file.size > config.limits.file_bytes)) {
      errorLine.textContent = strings.too_large;
      return;
    }
    const form = new FormData();
    form.append("text", text);
    for (const file of files) form.append("files", file);
    form.append("client_id", `${Date.now()}-${Math.random().toString(36).slice(2)}`);
    form.append("after", String(lastId));
    if (!token) {
      form.append("name", nameInput.value);
      form.append("email", emailInput.value);
      form.append(config.honeypot, honeypot.value);
      form.append("stamp", config.stamp);
      email = emailInput.value.trim();
    }
    sendButton.disabled = true;
    errorLine.textContent = "";
    try {
      const data = await request("messages/", { method: "POST", body: form });
      const first = !token;
      token = data.token;
      try {
        localStorage.setItem(storeKey, token);
      } catch {
        // private mode: the chat lasts as long as the page
      }
      textInput.value = "";
      lastTyping = 0; // the next keystroke starts a new message: tell the agent at once
      fileInput.value = "";
      chosen.textContent = "";
      started();
      for (const message of data.messages) render(message);
      if (first) follow();
    } catch (error) {
      errorLine.textContent = error.message || strings.error;
    } finally {
      sendButton.disabled = false;
    }
  };

  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  textInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      send();
    }
  });
  textInput.addEventListener("input", () => {
    if (!token || Date.now() - lastTyping < TYPING_EVERY) return;
    lastTyping = Date.now();
    request("typing/", { method: "POST", json: {} }).catch(() => {});
  });
  fileInput.addEventListener("change", () => {
    chosen.textContent = Array.from(fileInput.files || []).map((file) => file.name).join(", ");
  });

  searchForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    results.replaceChildren();
    const data = await request(`search/?q=${encodeURIComponent(searchInput.value)}`).catch(() => ({ results: [] }));
    if (!data.results.length) results.append(element("li", { class: "none", text: strings.no_results }));
    for (const found of data.results) {
      const link = element("a", { href: found.url, target: "_blank", rel: "noopener", text: found.title });
      results.append(element("li", {}, [link, element("small", { text: found.summary })]));
    }
  });

  transcriptButton.addEventListener("click", () => {
    transcriptForm.hidden = !transcriptForm.hidden;
    if (!transcriptEmail.value) transcriptEmail.value = email;
  });
  transcriptForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await request("transcript/", { method: "POST", json: { email: transcriptEmail.value } });
      transcriptForm.hidden = true;
      errorLine.textContent = strings.transcript_sent;
    } catch (error) {
      errorLine.textContent = error.message;
    }
  });

  const setOpen = (open) => {
    panel.hidden = !open;
    launcher.hidden = open;
    launcher.setAttribute("aria-expanded", String(open));
    host.classList.toggle("open", open);
    if (open) {
      textInput.focus();
      reportSeen();
    }
  };
  launcher.addEventListener("click", () => setOpen(true));
  closeButton.addEventListener("click", () => setOpen(false));
  document.addEventListener("visibilitychange", reportSeen);

  const start = async () => {
    try {
      config = await request("config/");
    } catch (error) {
      if (token && error.status !== 403) return;
      // A token of another channel or an expired one: start afresh.
      token = "";
      config = await request("config/");
    }
    strings = config.strings;
    applyStrings();
    if (!config.open && config.out_of_hours) {
      notice.textContent = config.out_of_hours;
      notice.hidden = false;
    }
    if (config.conversation) {
      started();
      for (const message of config.messages) render(message);
      follow();
    } else if (token) {
      token = "";
    }
    document.body.append(host);
  };

  window.helpdeskChatWidget = { open: () => setOpen(true), close: () => setOpen(false) };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
