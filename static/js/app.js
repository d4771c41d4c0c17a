// Small behaviours that need no inline script (the CSP forbids it).
document.addEventListener("change", (event) => {
  if (event.target.matches("[data-autosubmit]")) event.target.form.submit();
});

// Let the server show times in the browser's zone when the agent has not chosen one.
(() => {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && !document.cookie.split("; ").some((c) => c === `tz=${zone}`)) {
    document.cookie = `tz=${zone}; path=/; max-age=31536000; samesite=lax`;
  }
})();

// Confirm destructive actions marked with data-confirm.
document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});

// Print buttons (the phone desk's script report).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});

// The portal's new ticket: the priority field only for departments that take it.
(() => {
  const pool = document.querySelector("#portal-ticket-form select[name=pool]");
  const priority = document.querySelector("#div_id_priority");
  if (!pool || !priority) return;
  const toggle = () => {
    const option = pool.options[pool.selectedIndex];
    priority.hidden = !(option && option.dataset.takesPriority);
  };
  pool.addEventListener("change", toggle);
  toggle();
})();

// The portal's new ticket: only the services the chosen department offers.
(() => {
  const pool = document.querySelector("#portal-ticket-form select[name=pool]");
  const topic = document.querySelector("#portal-ticket-form select[name=topic]");
  if (!pool || !topic) return;
  const filter = () => {
    for (const option of topic.options) {
      const pools = option.dataset.pools;
      option.hidden = Boolean(pools) && !pools.split(" ").includes(pool.value);
      if (option.hidden && option.selected) topic.value = "";
    }
  };
  pool.addEventListener("change", filter);
  filter();
})();
