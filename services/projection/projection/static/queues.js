// 我的工作 (pages.queues_page): the signed-in person's four queues as tabs (ARIA tabs:
// arrow keys move between them), each case linking to its page. #review etc. opens a tab.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const HEADS = {
    mine: ["案件编号", "用人单位", "区县", "状态", "下次跟进", "类别"],
    review: ["案件编号", "用人单位", "区县", "待核实事项", "承办人"],
    at_risk: ["案件编号", "用人单位", "区县", "即将届满的时限", "承办人"],
    unassigned: ["案件编号", "用人单位", "区县", "紧急程度", "类别", "受理时间"],
  };
  const who = (item) => (item.responsible ? item.responsible.name : "尚无承办人");
  const CELLS = {
    mine: (i) => [i.employer_name, i.district_name, i.state_name, i.next_action_on || "—", i.category_name],
    review: (i) => [i.employer_name, i.district_name,
      i.reviews.map((r) => `${r.kind_name}：${r.text}`).join("；"), who(i)],
    at_risk: (i) => [i.employer_name, i.district_name,
      i.deadlines_at_risk.map((d) => `${d.kind_name} ${d.due_on}（剩余${d.days_left}天）`).join("；"), who(i)],
    unassigned: (i) => [i.employer_name, i.district_name, i.urgency_name, i.category_name,
      new Date(i.reported_at).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false })],
  };

  async function get(url) {
    try {
      const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      const data = await response.json().catch(() => ({}));
      return response.ok ? data : Promise.reject(data.message || data.detail || `加载失败（${response.status}）`);
    } catch (err) {
      return Promise.reject(typeof err === "string" ? err : "无法连接统计服务，请稍后重试。");
    }
  }

  async function counts() {
    const data = await get("api/v1/queues").catch(() => null);
    if (!data) return;
    for (const q of data.queues) $("count-" + q.queue).textContent = String(q.count);
  }

  async function show(queue, focus) {
    for (const tab of tabs) {
      const selected = tab.dataset.queue === queue;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
      if (selected && focus) tab.focus();
    }
    $("panel").setAttribute("aria-labelledby", "tab-" + queue);
    if (location.hash !== "#" + queue) history.replaceState(null, "", "#" + queue);
    const table = $("items");
    table.tHead.innerHTML = "<tr>" + HEADS[queue].map((h) => `<th scope="col">${h}</th>`).join("") + "</tr>";
    const body = table.tBodies[0];
    body.textContent = "";
    let data;
    try {
      data = await get("api/v1/queues/" + queue);
      $("queue-error").textContent = "";
    } catch (message) {
      $("queue-error").textContent = String(message);
      return;
    }
    $("count-" + queue).textContent = String(data.items.length);
    if (!data.items.length) {
      const cell = body.insertRow().insertCell();
      cell.colSpan = HEADS[queue].length;
      cell.className = "empty";
      cell.textContent = `「${data.name}」中暂无案件`;
      return;
    }
    for (const item of data.items) {
      const row = body.insertRow();
      const head = document.createElement("th");
      head.scope = "row";
      const link = document.createElement("a");
      link.href = "cases/" + encodeURIComponent(item.case_number);
      link.textContent = item.case_number;
      head.append(link);
      row.append(head);
      for (const value of CELLS[queue](item)) row.insertCell().textContent = value ?? "";
    }
  }

  for (const tab of tabs) {
    tab.addEventListener("click", () => show(tab.dataset.queue, false));
    tab.addEventListener("keydown", (event) => {
      const at = tabs.indexOf(tab);
      const next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      show(tabs[(next + tabs.length) % tabs.length].dataset.queue, true);
    });
  }
  const first = location.hash.slice(1);
  counts();
  show(HEADS[first] ? first : "mine", false);
})();
