// The audit page: filters, a table of records (newest first), more pages on request.
// URLs are relative, so the page works on the service's own port and under the proxy.
"use strict";

(function () {
  const form = document.getElementById("filters");
  const body = document.querySelector("#records tbody");
  const error = document.getElementById("error");
  const empty = document.getElementById("empty");
  const more = document.getElementById("more");
  let nextCursor = null;

  function fill(select, table) {
    for (const [code, name] of Object.entries(table)) {
      const option = document.createElement("option");
      option.value = code;
      option.textContent = name;
      select.appendChild(option);
    }
  }

  function showError(message) {
    error.textContent = message;
    error.hidden = false;
  }

  async function getJson(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.status === 401) {
      window.location.assign(window.location.pathname);  // the page sends us to sign in
      throw new Error("请先登录");
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new Error(data.message || `查询失败（${response.status}），请稍后重试`);
    }
    return data;
  }

  function cell(row, text, className) {
    const td = document.createElement("td");
    td.textContent = text || "";
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function addRecords(records) {
    for (const r of records) {
      const row = document.createElement("tr");
      row.dataset.action = r.action;
      cell(row, r.occurred_at_china, "when");
      cell(row, r.actor_kind === "user" ? r.actor_id : `${r.actor_id}（${r.actor_kind === "system" ? "系统" : "公众渠道"}）`);
      cell(row, r.actor_role_name);
      cell(row, r.action_name, "action");
      cell(row, r.case_number || "");
      cell(row, r.district_name);
      cell(row, r.outcome_name, r.outcome);
      cell(row, r.reason_name, "reason");
      cell(row, r.detail || "");
      body.appendChild(row);
    }
  }

  function query() {
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form)) {
      if (String(value).trim()) params.set(name, String(value).trim());
    }
    return params;
  }

  async function load(reset) {
    error.hidden = true;
    const params = query();
    if (!reset && nextCursor) params.set("cursor", nextCursor);
    try {
      const data = await getJson(`api/v1/audit-records?${params}`);
      if (reset) body.replaceChildren();
      addRecords(data.records);
      nextCursor = data.next_cursor;
      more.hidden = !nextCursor;
      empty.hidden = body.children.length > 0;
    } catch (e) {
      showError(e.message);
    }
  }

  async function start() {
    try {
      const names = await getJson("api/v1/audit-labels");
      fill(document.getElementById("f-role"), names.roles);
      fill(document.getElementById("f-action"), names.actions);
      fill(document.getElementById("f-district"), names.districts);
      fill(document.getElementById("f-outcome"), names.outcomes);
    } catch (e) {
      showError(e.message);
      return;
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      load(true);
    });
    more.addEventListener("click", () => load(false));
    await load(true);
    document.body.dataset.ready = "true";
  }

  start();
})();
