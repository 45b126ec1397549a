// The entitlements calculator and, beside it, the agreement draft. Amounts and every step
// of the explanation come from the API (weiquan_shared/entitlements.py); nothing is computed here.
const $ = (id) => document.getElementById(id);
const text = (s) => { const span = document.createElement("span"); span.textContent = s ?? ""; return span.innerHTML; };
const csrfToken = () => document.querySelector('meta[name="csrf-token"]').content;
const ITEMS = {wages: "劳动报酬（工资）", compensation: "经济补偿", damages: "赔偿金", other: "其他"};
let workers = [];

function showFields() {
  const kind = $("calculation").value;
  for (const el of document.querySelectorAll("[data-for]")) {
    el.hidden = !el.dataset.for.split(" ").includes(kind);
  }
}
$("calculation").addEventListener("change", showFields);
showFields();

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST", body: JSON.stringify(body),
    headers: {"Content-Type": "application/json", "X-CSRF-Token": csrfToken()},
  });
  return [response, await response.json()];
}

$("calc").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = {calculation: $("calculation").value};
  for (const el of e.target.querySelectorAll("input")) {
    if (!el.hidden && el.value) body[el.name] = el.value;
  }
  const [response, result] = await post("api/v1/entitlements", body);
  const box = $("calc_result");
  if (!response.ok) { box.innerHTML = `<p class="error">${text(result.message || result.detail)}</p>`; return; }
  box.innerHTML = `<p class="amount" id="calc_amount">${text(result.amount)} 元</p>` +
    "<ol>" + result.explanation.map((line) => `<li>${text(line)}</li>`).join("") + "</ol>" +
    (result.review.length ? "<p><strong>请人工核实：</strong></p><ul>" + result.review.map((r) => `<li>${text(r)}</li>`).join("") + "</ul>" : "") +
    "<p>依据：" + result.sources.map(text).join("；") + "</p>" +
    '<button type="button" id="use_amount">填入协议草稿</button>';
  $("use_amount").addEventListener("click", () => addItem(result.amount,
    body.calculation === "double_wages" ? "wages" : body.calculation));
});

function addItem(amount = "", kind = "wages") {
  const row = document.createElement("tr");
  const options = workers.map((w, i) => `<option value="${text(w)}">职工${i + 1}（${text(w.slice(0, 8))}）</option>`).join("");
  row.innerHTML = `<td><select name="worker_ref" aria-label="职工">${options}</select></td>` +
    `<td><select name="item" aria-label="项目">${Object.entries(ITEMS).map(([k, v]) => `<option value="${k}"${k === kind ? " selected" : ""}>${v}</option>`).join("")}</select></td>` +
    `<td><input name="amount" type="number" min="0" step="0.01" value="${text(amount)}" aria-label="金额（元）"></td>` +
    '<td><input name="label" maxlength="50" aria-label="其他项目名称"></td>';
  $("items").tBodies[0].append(row);
}

const number = () => $("mediation_number").value.trim();
$("load").addEventListener("click", async () => {
  const response = await fetch(`api/v1/mediations/${encodeURIComponent(number())}/outcome`);
  const body = await response.json();
  if (!response.ok) { $("agreement_result").textContent = body.message || body.detail; return; }
  workers = body.workers;
  $("items").tBodies[0].innerHTML = "";
  addItem();
  $("agreement_result").textContent = `本案共${workers.length}名职工`;
});
$("add_item").addEventListener("click", () => addItem());

$("agreement").addEventListener("submit", async (e) => {
  e.preventDefault();
  const items = [...$("items").tBodies[0].rows].map((row) => {
    const get = (name) => row.querySelector(`[name="${name}"]`).value;
    return {worker_ref: get("worker_ref"), item: get("item"), amount: get("amount"), label: get("label") || null};
  });
  const [response, result] = await post(`api/v1/mediations/${encodeURIComponent(number())}/agreement`, {
    items, effective_on: $("effective_on").value, partial: $("partial").checked,
    schedule: {first_due_on: $("first_due_on").value, count: Number($("count").value)},
  });
  $("agreement_result").textContent = response.ok ? result.message : (result.message || result.detail);
});

// Opened from the workbench (calculator?number=TJ-…): the mediation's workers are read at once.
const fromWorkbench = new URLSearchParams(location.search).get("number");
if (fromWorkbench) { $("mediation_number").value = fromWorkbench; $("load").click(); }
