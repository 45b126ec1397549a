// A lawyer's own cases (the API returns only those assigned to the signed-in lawyer):
// the steps of the proceedings (an award is tested for finality by the entitlements
// calculator on the server), and declining with a reason.
const $ = (id) => document.getElementById(id);
const text = (s) => { const span = document.createElement("span"); span.textContent = s ?? ""; return span.innerHTML; };
const csrfToken = () => document.querySelector('meta[name="csrf-token"]').content;
const STEPS = {
  arbitration_filed: "申请劳动仲裁", arbitration_accepted: "仲裁委受理", arbitration_rejected: "仲裁委不予受理",
  hearing: "开庭审理", award_extended: "仲裁延期审理", award: "仲裁裁决", settlement: "达成和解或调解",
  litigation_filed: "提起诉讼", judgment: "法院判决", enforcement_applied: "申请强制执行", enforcement_concluded: "执行完毕",
};
let current = null;

function clockText(c) {
  if (!c) return "—";
  const left = c.days_left < 0 ? `已超期${-c.days_left}天` : c.days_left === 0 ? "今天届满" : `剩${c.days_left}天`;
  return `${c.label} ${c.due_on}（${left}）`;
}

async function call(method, url, body) {
  const response = await fetch(url, {
    method, body: body ? JSON.stringify(body) : undefined,
    headers: {"Content-Type": "application/json", "X-CSRF-Token": csrfToken()},
  });
  const data = await response.json();
  if (!response.ok) throw new Error(data.message || data.detail || "操作未成功");
  return data;
}

async function load() {
  let data;
  try { data = await call("GET", "api/v1/my/applications"); }
  catch (e) { $("empty").hidden = false; $("empty").textContent = e.message; return; }
  const body = $("cases").tBodies[0];
  $("empty").hidden = data.applications.length > 0;
  body.innerHTML = data.applications.map((a) =>
    `<tr><td><a href="#" data-number="${text(a.application_number)}">${text(a.application_number)}</a></td><td>${text(a.matter_label)}</td>` +
    `<td>${text(a.status_label)}${a.provisional && a.status !== "provisional" ? "（先行援助）" : ""}</td><td>${text(a.employer_name || "—")}</td>` +
    `<td>${text(clockText(a.clocks[0]))}</td></tr>`).join("");
  for (const link of body.querySelectorAll("a[data-number]")) {
    link.addEventListener("click", (e) => { e.preventDefault(); show(link.dataset.number); });
  }
}

async function show(number) {
  const a = await call("GET", `api/v1/my/applications/${encodeURIComponent(number)}`);
  current = a;
  $("detail").hidden = false;
  $("detail-title").textContent = `案件详情 ${a.application_number}`;
  $("summary").innerHTML = `<p>${text(a.matter_label)} · ${text(a.status_label)} · 用人单位 ${text(a.employer_name || "—")}</p>` +
    "<ul>" + a.clocks.map((c) => `<li>${text(clockText(c))}</li>`).join("") + "</ul>";
  $("steps").innerHTML = a.steps.map((s) => `<li>${text(s.occurred_on)} ${text(s.label)}` +
    (s.award_final === null ? "" : s.award_final ? "（终局裁决）" : "（非终局裁决）") +
    (s.documents.length ? `（文书：${s.documents.map((d) => text(d.title)).join("、")}）` : "") + "</li>").join("") || "<li>暂无</li>";
  $("result").textContent = "";
}

$("step_kind").innerHTML = Object.entries(STEPS).map(([k, v]) => `<option value="${k}">${v}</option>`).join("");
const showAward = () => { for (const el of document.querySelectorAll("[data-for=award]")) el.hidden = $("step_kind").value !== "award"; };
$("step_kind").addEventListener("change", showAward);
showAward();

$("step").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = {step: $("step_kind").value, occurred_on: $("occurred_on").value, documents: []};
  if ($("doc_title").value.trim()) body.documents.push({code: `${body.step}_document`.slice(0, 40), title: $("doc_title").value.trim()});
  if (body.step === "award") {
    body.amount_awarded = $("amount").value || "0";
    if ($("minimum_wage").value) {
      body.award_items = [{kind: "labour_remuneration", amount: body.amount_awarded}];
      body.minimum_monthly_wage = $("minimum_wage").value;
    }
  }
  try {
    const data = await call("POST", `api/v1/my/applications/${encodeURIComponent(current.application_number)}/steps`, body);
    await show(current.application_number);
    $("result").textContent = data.message + (data.explanation.length ? "：" + data.explanation.join("；") : "");
    await load();
  } catch (err) { $("result").textContent = err.message; }
});

$("decline").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    const data = await call("POST", `api/v1/my/applications/${encodeURIComponent(current.application_number)}/decline`, {reason: $("decline_reason").value});
    $("detail").hidden = true;
    $("empty").textContent = data.message;
    await load();
  } catch (err) { $("result").textContent = err.message; }
});

load();
