// Live updates (live/): one server-sent-events stream per page. Each event is dispatched on
// document as the CustomEvent "live:<event>" (detail: its data), so htmx can refresh a part
// with hx-trigger="live:ticket.message from:document" and plain script can listen to it.
// The same event is also dispatched, without bubbling, on each element whose
// data-live-topic lists the event's topic (hx-trigger="live:ticket.message" on the element
// refreshes only for that topic, e.g. one ticket among the pool's).
//
// Included by base.html for agents: <script src=".../live.js" data-live-url="/live/stream/"
// data-live-params="ticket=42">. Other pages (the chat widget) call
// window.helpdeskLive.connect({url, params}).
(() => {
  const FIRST_DELAY = 1000;
  const LONGEST_DELAY = 30000;

  const dispatch = ({ event, topic, data }) => {
    document.dispatchEvent(new CustomEvent(`live:${event}`, { detail: data }));
    if (!topic) return;
    for (const element of document.querySelectorAll("[data-live-topic]")) {
      if (element.dataset.liveTopic.split(/\s+/).includes(topic)) {
        element.dispatchEvent(new CustomEvent(`live:${event}`, { detail: data, bubbles: false }));
      }
    }
  };

  const connect = ({ url, params = "" }) => {
    let source = null;
    let lastEventId = "";
    let delay = FIRST_DELAY;
    let timer = null;
    let closed = false;

    const open = () => {
      const query = new URLSearchParams(params);
      // A stream we reopen ourselves cannot send the Last-Event-ID header: say it here.
      if (lastEventId) query.set("last_event_id", lastEventId);
      const queryString = query.toString();
      source = new EventSource(queryString ? `${url}?${queryString}` : url);
      source.onopen = () => {
        delay = FIRST_DELAY;
        document.documentElement.dataset.live = "connected";
        document.dispatchEvent(new CustomEvent("live:connected"));
      };
      source.onmessage = (message) => {
        if (message.lastEventId) lastEventId = message.lastEventId;
        let payload;
        try {
          payload = JSON.parse(message.data);
        } catch {
          return;
        }
        dispatch(payload);
      };
      source.onerror = () => {
        document.documentElement.dataset.live = "disconnected";
        // A network error: the browser reconnects by itself (sending Last-Event-ID). An
        // HTTP error or a refused stream closes it for good: reconnect, backing off.
        if (closed || source.readyState !== EventSource.CLOSED) return;
        clearTimeout(timer);
        timer = setTimeout(open, delay + Math.random() * delay * 0.3);
        delay = Math.min(delay * 2, LONGEST_DELAY);
      };
    };

    const close = () => {
      closed = true;
      clearTimeout(timer);
      if (source) source.close();
    };

    open();
    return { close };
  };

  window.helpdeskLive = { connect };

  const script = document.currentScript;
  if (script && script.dataset.liveUrl) {
    const live = connect({ url: script.dataset.liveUrl, params: script.dataset.liveParams || "" });
    window.addEventListener("pagehide", (event) => {
      if (!event.persisted) live.close();
    });
  }
})();
