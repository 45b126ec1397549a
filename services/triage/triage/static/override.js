// The triage officer's page: decision history and re-routing. Every Chinese name of a code
// comes from /api/v1/labels (weiquan_shared/labels.py), the one table of the whole system.
const $ = (id) => document.getElementById(id);
const caseNumber = () => $("case_number").value.trim();
const text = (s) => { const span = document.createElement("span"); span.textContent = s ?? ""; return span.innerHTML; };
const csrfToken = () => document.querySelector('meta[name="csrf-token"]').content;
const labelsReady = fetch("api/v1/labels").then((r) => r.json());

labelsReady.then((labels) => {
  for (const select of document.querySelectorAll("select[data-labels]")) {
    for (const [code, name] of Object.entries(labels[select.dataset.labels])) {
      select.add(new Option(name, code));
    }
  }
});

async function showHistory() {
  const labels = await labelsReady;
  const name = (table, code) => labels[table][code] ?? code;
  const box = $("history");
  const response = await fetch(`api/v1/cases/${encodeURIComponent(caseNumber())}/decisions`);
  const body = await response.json();
  if (!response.ok) { box.innerHTML = `<p class="error">${text(body.detail || body.message)}</p>`; return; }
  box.innerHTML = "<table><tr><th>时间</th><th>方式</th><th>类别</th><th>紧急程度</th><th>去向</th><th>操作人</th><th>理由</th></tr>" +
    body.map((d) => `<tr><td>${text(new Date(d.decided_at).toLocaleString("zh-CN"))}</td>` +
      `<td>${text(name("decision_kinds", d.kind))}</td>` +
      `<td>${text(name("categories", d.category))}</td><td>${text(name("urgencies", d.urgency))}</td>` +
      `<td>${text(d.route_detail ? name("route_details", d.route_detail) : name("routes", d.route))}</td>` +
      `<td>${text(d.actor)}</td><td>${text(d.note || d.reasons.map((r) => r.text).join("；"))}</td></tr>`).join("") + "</table>";
}

$("lookup").addEventListener("submit", (e) => { e.preventDefault(); showHistory(); });
$("override").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  const body = {};
  for (const [key, value] of form.entries()) { if (value) body[key] = value; }
  const result = $("result");
  const response = await fetch(`api/v1/cases/${encodeURIComponent(caseNumber())}/override`, {
    method: "POST", body: JSON.stringify(body),
    // The session cookie signs the officer in; the CSRF token the page came with proves
    // the request comes from this page.
    headers: {"Content-Type": "application/json", "X-CSRF-Token": csrfToken()},
  });
  const answer = await response.json();
  if (response.ok) { result.className = "ok"; result.textContent = "已调整分流并发布事件"; showHistory(); }
  else { result.className = "error"; result.textContent = answer.message || answer.detail; }
});
