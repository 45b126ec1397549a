// The portal's queue counts (我的工作): projection's, fetched through the one address. If
// they cannot be had (projection down, reached without the proxy), the section stays hidden.
"use strict";
(() => {
  const section = document.getElementById("queues");
  if (!section) return;
  fetch(section.dataset.source, { credentials: "same-origin", cache: "no-store" })
    .then((response) => (response.ok ? response.json() : null))
    .then((data) => {
      if (!data || !Array.isArray(data.queues)) return;
      const list = document.getElementById("queue-counts");
      for (const queue of data.queues) {
        const item = document.createElement("li");
        const link = document.createElement("a");
        link.href = section.dataset.page + "#" + queue.queue;
        link.id = "queue-" + queue.queue;
        const count = document.createElement("strong");
        count.className = "count";
        count.textContent = String(queue.count);
        link.append(queue.name, " ", count);
        item.append(link);
        list.append(item);
      }
      section.hidden = false;
    })
    .catch(() => {});
})();
