// The legal-aid officer's queue: applications and their statutory clocks, one application's
// checklist, decision (with the rules and reasons the service gives) and steps.
const $ = (id) => document.getElementById(id);
const text = (s) => { const span = document.createElement("span"); span.textContent = s ?? ""; return span.innerHTML; };
const csrfToken = () => document.querySelector('meta[name="csrf-token"]').content;
let current = null;

async function call(method, url, body) {
  const response = await fetch(url, {
    method, body: body ? JSON.stringify(body) : undefined,
    headers: {"Content-Type": "application/json", "X-CSRF-Token": csrfToken()},
  });
  const data = await response.json();
  if (!response.ok) throw new Error(data.message || data.detail || "操作未成功");
  return data;
}

function clockText(c) {
  if (!c) return "—";
  const left = c.days_left < 0 ? `已超期${-c.days_left}天` : c.days_left === 0 ? "今天届满" : `剩${c.days_left}天`;
  return `${c.label} ${c.due_on}（${left}）`;
}

async function loadQueue() {
  const data = await call("GET", "api/v1/applications");
  $("today").textContent = `（今天 ${data.today}）`;
  const body = $("queue").tBodies[0];
  body.innerHTML = "";
  $("empty").hidden = data.applications.length > 0;
  for (const a of data.applications) {
    const row = document.createElement("tr");
    const first = a.clocks[0];
    if (first && first.days_left <= 2) row.className = "at-risk";
    row.innerHTML = `<td><a href="#" data-number="${text(a.application_number)}">${text(a.application_number)}</a></td>` +
      `<td>${text(a.source_label)}</td><td>${text(a.matter_label)}${a.is_migrant_worker ? "（进城务工人员）" : ""}</td>` +
      `<td>${text(a.status_label)}${a.provisional && a.status !== "provisional" ? " <strong>先行援助</strong>" : ""}</td>` +
      `<td>${text(a.employer_name || "—")}</td><td class="clock">${text(clockText(first))}</td>`;
    body.append(row);
  }
  for (const link of body.querySelectorAll("a[data-number]")) {
    link.addEventListener("click", (e) => { e.preventDefault(); show(link.dataset.number); });
  }
}

async function show(number) {
  const a = await call("GET", `api/v1/applications/${encodeURIComponent(number)}`);
  current = a;
  $("detail").hidden = false;
  $("detail-title").textContent = `申请详情 ${a.application_number}`;
  $("summary").innerHTML = `<p>${text(a.source_label)} · ${text(a.matter_label)} · ${text(a.status_label)} · 案件 ${text(a.case_number || "—")} · 职工${a.workers}人</p>` +
    "<ul>" + a.clocks.map((c) => `<li>${text(clockText(c))}</li>`).join("") + "</ul>" +
    (a.lawyer_code ? `<p>承办律师：${text((a.assignments.find((x) => x.lawyer_code === a.lawyer_code && !x.declined_at) || {}).name || "")}（${text(a.lawyer_code)}）</p>` : "");
  $("checklist").innerHTML = a.checklist.map((d) =>
    `<li><label><input type="checkbox" name="doc" value="${text(d.code)}"${d.received ? " checked" : ""}> ${text(d.title)}</label></li>`).join("");
  $("household_size").value = a.household_size ?? "";
  $("income").value = "";
  $("income").placeholder = a.income_recorded ? "已登记（加密保存）" : "";
  $("confirm").hidden = a.status !== "awaiting_confirmation";
  $("explanation").innerHTML = (a.decision ? a.decision.explanation : ["尚未作出决定"]).map((l) => `<li>${text(l)}</li>`).join("");
  $("steps").innerHTML = a.steps.map((s) => `<li>${text(s.occurred_on)} ${text(s.label)}` +
    (s.documents.length ? `（文书：${s.documents.map((d) => text(d.title)).join("、")}）` : "") + "</li>").join("") || "<li>暂无</li>";
  $("close").hidden = !["assigned", "provisional", "granted"].includes(a.status);
  $("result").textContent = "";
}

async function act(work) {
  try { const data = await work(); $("result").textContent = data.message; await show(current.application_number); await loadQueue(); }
  catch (e) { $("result").textContent = e.message; }
}

$("facts").addEventListener("submit", (e) => {
  e.preventDefault();
  const body = {documents_received: [...document.querySelectorAll('input[name="doc"]:checked')].map((el) => el.value)};
  if ($("household_size").value) body.household_size = Number($("household_size").value);
  if ($("income").value) body.monthly_household_income = $("income").value;
  act(() => call("PUT", `api/v1/applications/${encodeURIComponent(current.application_number)}/facts`, body));
});
$("confirm").addEventListener("click", () => act(() => call("POST", `api/v1/applications/${encodeURIComponent(current.application_number)}/confirm`, {wants_aid: true})));
$("request_docs").addEventListener("click", () => act(() => call("POST", `api/v1/applications/${encodeURIComponent(current.application_number)}/documents-request`)));
$("decide").addEventListener("click", () => act(() => call("POST", `api/v1/applications/${encodeURIComponent(current.application_number)}/decision`)));

$("close").addEventListener("submit", (e) => {
  e.preventDefault();
  const body = {reason: $("close_reason").value, amount_recovered: $("recovered").value || "0"};
  if ($("satisfaction").value) body.satisfaction = Number($("satisfaction").value);
  act(() => call("POST", `api/v1/applications/${encodeURIComponent(current.application_number)}/close`, body));
});

$("walk_in").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = {
    district_code: $("wi_district").value.trim(), matter: $("wi_matter").value,
    is_migrant_worker: $("wi_migrant").checked, employer_name: $("wi_employer").value.trim(),
  };
  if ($("wi_credit").value.trim()) body.employer_credit_code = $("wi_credit").value.trim().toUpperCase();
  try {
    const data = await call("POST", "api/v1/applications", body);
    $("wi_result").textContent = `${data.message}：${data.application_number}`;
    await loadQueue();
  } catch (err) { $("wi_result").textContent = err.message; }
});

loadQueue().catch((e) => { $("empty").hidden = false; $("empty").textContent = e.message; });
