// The mediator's workbench: my mediations with both clocks, a day/week schedule by room,
// booking and moving sessions, the session record. Every Chinese name of a code comes from
// api/v1/labels (weiquan_shared/labels.py). Times are shown and entered in China time.
const $ = (id) => document.getElementById(id);
const text = (s) => { const span = document.createElement("span"); span.textContent = s ?? ""; return span.innerHTML; };
const csrfToken = () => document.querySelector('meta[name="csrf-token"]').content;
const TZ = "Asia/Shanghai";
const fmtTime = (iso) => new Date(iso).toLocaleTimeString("zh-CN", {timeZone: TZ, hour: "2-digit", minute: "2-digit"});
const fmtDateTime = (iso) => new Date(iso).toLocaleString("zh-CN", {timeZone: TZ, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit"});
const chinaDay = (d) => new Date(d).toLocaleDateString("sv-SE", {timeZone: TZ});  // YYYY-MM-DD
const atChina = (day, time) => `${day}T${time}:00+08:00`;
const addDays = (day, n) => { const d = new Date(`${day}T12:00:00+08:00`); d.setUTCDate(d.getUTCDate() + n); return chinaDay(d); };
const WEEKDAYS = "日一二三四五六";
const CONSENT_NAMES = {court: "人民法院", labour_bureau: "人社部门", law_firm: "律师事务所"};
const consentNames = (scopes) => scopes.map((s) => CONSENT_NAMES[s] || s).join("、") || "未同意对外提供";

const state = {me: null, labels: null, view: "cases", day: chinaDay(Date.now()), days: 1, current: null, session: null, rooms: [], mediators: []};

async function api(path, options = {}) {
  const init = {...options, headers: {"Accept": "application/json", ...(options.headers || {})}};
  if (options.body !== undefined) {
    init.body = JSON.stringify(options.body);
    init.headers["Content-Type"] = "application/json";
    init.headers["X-CSRF-Token"] = csrfToken();
  }
  const response = await fetch(path, init);
  const body = response.status === 204 ? {} : await response.json();
  if (!response.ok) throw new Error(body.message || body.detail || `请求失败（${response.status}）`);
  return body;
}

function say(id, message, ok) { const p = $(id); p.className = ok ? "ok" : "error"; p.textContent = message; }

function clockChip(clock) {
  return `<span class="clock ${text(clock.state)}" title="${text(clock.name)}${clock.verified ? "" : "（规则条文未核实，可配置）"}">${text(clock.text)}</span>`;
}

// ------------------------------------------------------------------ views

function show(view) {
  state.view = view;
  for (const section of document.querySelectorAll("main > section")) section.hidden = section.id !== `view-${view}`;
  for (const tab of document.querySelectorAll("#tabs button")) {
    const on = tab.dataset.view === view || (view === "case" && tab.dataset.view === "cases") || (view === "session" && tab.dataset.view === "schedule");
    if (on) tab.setAttribute("aria-current", "page"); else tab.removeAttribute("aria-current");
  }
}

async function route() {
  const hash = decodeURIComponent(location.hash.slice(1));
  try {
    if (hash.startsWith("case/")) { show("case"); await loadCase(hash.slice(5)); }
    else if (hash.startsWith("session/")) { show("session"); await loadSession(hash.slice(8)); }
    else if (hash === "schedule") { show("schedule"); await loadSchedule(); }
    else { show("cases"); await loadCases(); }
  } catch (error) {
    const target = {case: "case-result", session: "session-result"}[state.view];
    if (target) say(target, error.message, false); else alert(error.message);
  }
}

async function loadCases() {
  const scope = $("scope-all").checked ? "all" : "mine";
  const body = await api(`api/v1/mediations?scope=${scope}`);
  const rows = body.mediations.map((m) => {
    const [statutory, regulation] = m.clocks;
    const workers = m.worker_count === null ? "（未获同意，不显示）" : `${m.worker_count}人`;
    return `<tr tabindex="0" data-number="${text(m.mediation_number)}">` +
      `<td>${text(m.mediation_number)}${m.group ? "<br><small>群体争议</small>" : ""}${m.five_party ? "<br><small>五方联动</small>" : ""}</td>` +
      `<td>${text(m.category_name)}<br><small>${text(m.route_detail_name)}</small></td>` +
      `<td>${text(m.employer_name)}</td><td>${text(workers)}</td>` +
      `<td>${text(m.lead_mediator_name || "待指派")}${m.lead_is_me ? "（我）" : ""}</td>` +
      `<td>${text(m.status_name)}${m.withheld_cases ? '<br><small class="error">个人信息待同意</small>' : ""}</td>` +
      `<td>${clockChip(statutory)}</td><td>${clockChip(regulation)}</td>` +
      `<td>${m.next_session ? text(fmtDateTime(m.next_session)) : "—"}</td></tr>`;
  });
  $("cases-table").querySelector("tbody").innerHTML = rows.join("");
  $("cases-empty").hidden = rows.length > 0;
  $("cases-table").hidden = rows.length === 0;
  for (const row of $("cases-table").querySelectorAll("tbody tr")) {
    const open = () => { location.hash = `case/${row.dataset.number}`; };
    row.addEventListener("click", open);
    row.addEventListener("keydown", (e) => { if (e.key === "Enter") open(); });
  }
}

async function loadCase(number) {
  $("case-result").textContent = "";
  const m = await api(`api/v1/mediations/${encodeURIComponent(number)}`);
  state.current = m;
  $("case-title").textContent = `调解案件 ${m.mediation_number}`;
  $("case-summary").innerHTML = `<dl>` +
    `<dt>类别</dt><dd>${text(m.category_name)}（${text(m.route_detail_name)}）</dd>` +
    `<dt>用人单位</dt><dd>${text(m.employer_name)}</dd>` +
    `<dt>区</dt><dd>${text(m.district_name)}</dd>` +
    `<dt>状态</dt><dd>${text(m.status_name)}</dd>` +
    `<dt>主持调解员</dt><dd>${text(m.lead_mediator_name || "待指派")}</dd>` +
    `<dt>参加单位</dt><dd>${text(m.organisation_names.join("、"))}${m.five_party ? "（五方联动）" : ""}</dd>` +
    `<dt>收到申请</dt><dd>${text(m.received_on)}</dd>` +
    `<dt>受理</dt><dd>${text(m.accepted_on || "尚未受理")}</dd>` +
    `<dt>职工人数</dt><dd>${m.worker_count === null ? "（未获同意，不显示）" : text(m.worker_count)}</dd>` +
    `<dt>请求金额合计</dt><dd>${m.claim_amount ? text(m.claim_amount) + " 元" : "—"}</dd>` +
    (m.needs_representatives ? `<dt>推举代表</dt><dd>${m.representatives === null ? "（未获同意，不显示）" : m.representatives.length ? text(m.representatives.map((r) => r.label).join("、")) + `（${text(m.representatives_on)}推举）` : "十人以上，尚未记录推举的代表（调解仲裁法第七条）"}</dd>` : "") +
    `</dl>`;
  $("case-clocks").innerHTML = m.clocks.map((c) =>
    `<div><strong>${text(c.name)}</strong><br>${clockChip(c)}` +
    (c.due_on ? `<br><small>届满日 ${text(c.due_on)}${c.extended_days ? `，已延长${c.extended_days}日` : ""}</small>` : "") +
    (c.review.length ? `<br><small class="error">${text(c.review.join("；"))}</small>` : "") +
    (c.verified ? "" : "<br><small>规章条文未核实，期限可配置</small>") + `</div>`).join("");
  $("case-missing").hidden = !m.missing;
  $("case-missing").textContent = m.missing || "";
  $("case-cases").querySelector("tbody").innerHTML = m.cases.map((c) => c.withheld
    ? `<tr><td>${text(c.case_number)}</td><td>${text(c.category_name)}</td><td colspan="3" class="error">${text(c.missing)}</td></tr>`
    : `<tr><td>${text(c.case_number)}</td><td>${text(c.category_name)}</td><td>${text(c.workers.map((w) => w.label).join("、"))}</td>` +
      `<td>${text(c.claim_amount || "—")}</td><td>${text(consentNames(c.consent_scopes))}</td></tr>`).join("");
  $("case-sessions").querySelector("tbody").innerHTML = m.sessions.map((s) =>
    `<tr tabindex="0" data-session="${text(s.session_id)}"><td>${text(fmtDateTime(s.starts_at))}–${text(fmtTime(s.ends_at))}</td>` +
    `<td>${text(s.room_name)}</td><td>${text(s.mediator_names.join("、"))}</td>` +
    `<td>${s.representatives_elected ? `职工代表${s.worker_count}人` : `职工${s.worker_count}人`}${s.employer_representative ? "、用人单位代表" : ""}<br><small>${text(s.organisation_names.join("、"))}</small></td>` +
    `<td>${text(s.status_name)}${s.moves ? `（改期${s.moves}次）` : ""}</td></tr>`).join("") || `<tr><td colspan="5">尚未安排调解</td></tr>`;
  for (const row of $("case-sessions").querySelectorAll("tbody tr[data-session]")) {
    const open = () => { location.hash = `session/${row.dataset.session}`; };
    row.addEventListener("click", open);
    row.addEventListener("keydown", (e) => { if (e.key === "Enter") open(); });
  }
  const running = ["received", "accepted"].includes(m.status);
  $("accept-form").hidden = m.status !== "received";
  $("extend-form").hidden = m.status !== "accepted";
  $("book-form").hidden = !running;
  const workers = m.cases.flatMap((c) => c.workers || []);
  $("reps-form").hidden = !running || !m.needs_representatives || m.representatives === null;
  const chosen = new Set((m.representatives || []).map((r) => r.worker_ref));
  $("reps_workers").innerHTML = workers.map((w) =>
    `<label class="inline"><input type="checkbox" name="worker_refs" value="${text(w.worker_ref)}" ${chosen.has(w.worker_ref) ? "checked" : ""}> ${text(w.label)}</label>`).join("");
  if (!$("reps_on").value) $("reps_on").value = chinaDay(Date.now());
  $("assign-form").hidden = !(state.me && state.me.coordinator) || !running;
  await fillBookingChoices(m);
  await loadOutcome(m, workers);
}

// ------------------------------------------------------------------ the outcome

const yuan = (v) => `${Number(v).toLocaleString("zh-CN", {minimumFractionDigits: 2, maximumFractionDigits: 2})} 元`;
const outcomePath = (suffix) => `api/v1/mediations/${encodeURIComponent(state.current.mediation_number)}/${suffix}`;

async function loadOutcome(m, workers) {
  for (const id of ["outcome-result", "failure-result", "withdrawal-result", "confirmation-result", "ruling-result", "payment-result", "payment-order-result", "document-result"]) $(id).textContent = "";
  let o;
  try { o = await api(outcomePath("outcome")); }
  catch (error) { $("outcome-section").hidden = true; return; }  // outside the person's districts: nothing to record here
  $("outcome-section").hidden = false;
  state.outcome = o;
  const a = o.agreement;
  const L = state.labels;
  const today = chinaDay(Date.now());
  let html = "";
  if (a) {
    const c = a.confirmation;
    html += `<dl><dt>调解协议</dt><dd>${a.partial ? "部分达成，" : ""}给付总额 ${text(yuan(a.total_amount))}，${text(a.effective_on)}生效</dd>` +
      `<dt>已实际支付</dt><dd>${text(yuan(a.recovered))}</dd>` +
      `<dt>司法确认</dt><dd>${c ? `${text(c.court_name)}，${text(c.applied_on)}申请` + (c.ruling ? `；${text(L.confirmation_rulings[c.ruling])}${c.ruling_number ? `（${text(c.ruling_number)}）` : ""}` : "；待裁定")
        : `尚未申请，申请期限至 ${text(a.confirmation_window.due_on)}（还剩${text(a.confirmation_window.days_left)}日）`}</dd>` +
      `<dt>支付令</dt><dd>${paymentOrderText(a)}</dd>` +
      `<dt>调解协议书</dt><dd>${a.document ? "已生成" : "尚未生成"}</dd></dl>` +
      `<table id="outcome-instalments"><thead><tr><th>分期</th><th>付款期限</th><th>金额</th><th>状态</th></tr></thead><tbody>` +
      a.instalments.map((i) => `<tr><td>第${i.number}期</td><td>${text(i.due_on)}</td><td>${text(yuan(i.amount))}</td>` +
        `<td>${Number(i.paid) > 0 ? `已付 ${text(yuan(i.paid))}` : i.overdue ? '<span class="error">逾期未付</span>' : "未付"}</td></tr>`).join("") +
      `</tbody></table>`;
  } else if (o.records.length) {
    html += `<p>${o.records.map((r) => text(r.kind === "failure" ? `调解不成：${L.failure_reasons[r.reason] || r.reason}` : `撤回：${L.withdrawal_reasons[r.reason] || r.reason}`)).join("<br>")}</p>`;
  } else {
    html += "<p>尚未登记调解结果。</p>";
  }
  if (o.closed) html += `<p><strong>${text(m.status_name)}</strong></p>`;
  $("outcome-summary").innerHTML = html;

  const open = !o.closed;
  $("agreement-draft").hidden = !open || Boolean(a);
  $("calculator-link").href = `calculator?number=${encodeURIComponent(m.mediation_number)}`;
  $("failure-form").hidden = !open || Boolean(a);
  $("failure_next").innerHTML = Object.entries(L.next_steps).map(([code, name]) =>
    `<label class="inline"><input type="checkbox" name="next_steps" value="${text(code)}" ${["arbitration", "legal_aid"].includes(code) ? "checked" : ""}> ${text(name)}</label>`).join("");
  $("withdrawal-form").hidden = !open || Boolean(a);
  $("withdrawal_workers").innerHTML = workers.map((w) =>
    `<label class="inline"><input type="checkbox" name="worker_refs" value="${text(w.worker_ref)}"> ${text(w.label)}</label>`).join("");
  $("confirmation-form").hidden = !a || Boolean(a.confirmation);
  if (!$("court_name").value) $("court_name").value = o.invited_court || "";
  if (m.route_detail === "mediation.court_union_room") $("court_basis").value = "invited";
  $("ruling-form").hidden = !a || !a.confirmation || Boolean(a.confirmation.ruling);
  const unpaid = a ? a.instalments.filter((i) => Number(i.paid) === 0) : [];
  $("payment-form").hidden = !open || !unpaid.length;
  $("pay_number").innerHTML = unpaid.map((i) => `<option value="${i.number}" data-amount="${text(i.amount)}">第${i.number}期（${text(i.due_on)}，${text(yuan(i.amount))}）</option>`).join("");
  $("pay_amount").value = unpaid.length ? unpaid[0].amount : "";
  const order = a ? a.payment_order_check : null;
  $("payment-order-form").hidden = !open || !order || !order.eligible;
  if (order && order.eligible) {
    $("payment-order-amount").textContent = `可申请金额 ${yuan(order.amount)}（${order.items.map((k) => L.agreement_items[k] || k).join("、")}）`;
    if (!$("order_court").value) $("order_court").value = o.invited_court || (a.confirmation ? a.confirmation.court_name : "");
  }
  $("document-form").hidden = !a;
  $("generate-document").textContent = a && a.document ? "重新生成调解协议书" : "生成调解协议书";
  for (const id of ["applied_on", "decided_on", "paid_on", "order_applied_on"]) if (!$(id).value) $(id).value = today;
}

/** The payment order's state in one line: applied (with the court's deadlines), or why not
 * (yet): the check's reasons come from the rules, in Chinese. */
function paymentOrderText(a) {
  const p = a.payment_order;
  if (p) return text(`${p.court_name}，${p.applied_on}申请，金额 ${yuan(p.amount)}；法院应于${p.acceptance_notice_by}前通知是否受理，${p.order_by}前发出支付令`);
  const check = a.payment_order_check;
  if (check.eligible) return "可以申请（见下方表单）";
  return text(check.reasons.join("；"));
}

function outcomeForm(formId, resultId, build, suffix, done) {
  $(formId).addEventListener("submit", async (e) => {
    e.preventDefault();
    let answer;
    try { answer = await api(outcomePath(typeof suffix === "function" ? suffix() : suffix), {method: "POST", body: build()}); }
    catch (error) { say(resultId, error.message, false); $(formId).querySelector("select, input").focus(); return; }
    await loadCase(state.current.mediation_number);
    say("outcome-result", answer.message || done, true);
  });
}

const checked = (id) => Array.from(document.querySelectorAll(`#${id} input:checked`)).map((i) => i.value);
outcomeForm("failure-form", "failure-result", () => ({reason: $("failure_reason").value, next_steps: checked("failure_next")}), "failure");
outcomeForm("withdrawal-form", "withdrawal-result", () => {
  const body = {withdrawn_by: $("withdrawn_by").value, reason: $("withdrawal_reason").value};
  const refs = checked("withdrawal_workers");
  if (refs.length) body.worker_refs = refs;
  return body;
}, "withdrawal");
outcomeForm("confirmation-form", "confirmation-result", () => ({
  court_name: $("court_name").value.trim(), court_basis: $("court_basis").value, intermediate: $("intermediate").checked,
  applied_on: $("applied_on").value, both_parties: $("both_parties").checked,
}), "confirmation");
outcomeForm("ruling-form", "ruling-result", () => {
  const body = {ruling: $("ruling").value, decided_on: $("decided_on").value};
  if ($("ruling_number").value.trim()) body.ruling_number = $("ruling_number").value.trim();
  return body;
}, "confirmation/ruling");
outcomeForm("payment-form", "payment-result", () => ({amount: $("pay_amount").value, paid_on: $("paid_on").value, evidence: $("evidence").value}),
  () => `instalments/${encodeURIComponent($("pay_number").value)}/payment`, "已登记付款");
outcomeForm("payment-order-form", "payment-order-result", () => ({court_name: $("order_court").value.trim(), applied_on: $("order_applied_on").value}),
  "payment-order", "已登记支付令申请");
$("pay_number").addEventListener("change", () => { $("pay_amount").value = $("pay_number").selectedOptions[0].dataset.amount; });

$("generate-document").addEventListener("click", async () => {
  try { const answer = await api(outcomePath("agreement/document"), {method: "POST", body: {}}); say("document-result", answer.message, true); }
  catch (error) { say("document-result", error.message, false); }
});
$("document-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const response = await fetch(outcomePath(`agreement/document?reason=${encodeURIComponent($("download_reason").value)}`));
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    say("document-result", body.message || `下载失败（${response.status}）`, false);
    return;
  }
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = `调解协议书-${state.current.mediation_number}.pdf`;
  link.click();
  URL.revokeObjectURL(link.href);
  say("document-result", "已下载（已记入审计）", true);
});

async function fillBookingChoices(m) {
  if (!state.rooms.length) state.rooms = await api("api/v1/rooms");
  if (!state.mediators.length) state.mediators = await api("api/v1/mediators");
  const roomOptions = state.rooms.map((r) => `<option value="${text(r.room_id)}">${text(r.name)}（${text(r.kind_name)}）</option>`).join("");
  $("book_room").innerHTML = roomOptions;
  $("move_room").innerHTML = roomOptions;
  $("book_mediators").innerHTML = state.mediators.map((d) =>
    `<option value="${text(d.subject)}" ${d.subject === m.lead_mediator_id ? "selected" : ""}>${text(d.name)}（${text(d.organisation_name)}）</option>`).join("");
  $("assign_lead").innerHTML = state.mediators.map((d) =>
    `<option value="${text(d.subject)}" ${d.subject === m.lead_mediator_id ? "selected" : ""}>${text(d.name)}（${text(d.organisation_name)}）</option>`).join("");
  const orgs = state.labels.organisations;
  $("assign_orgs").innerHTML = ["union", "peoples_court", "labour_bureau", "procuratorate", "justice_bureau"].map((o) =>
    `<label class="inline"><input type="checkbox" name="organisations" value="${o}" ${m.organisations.includes(o) ? "checked" : ""}> ${text(orgs[o])}</label>`).join("");
  if (!$("book_day").value) $("book_day").value = addDays(chinaDay(Date.now()), 1);
}

async function loadSchedule() {
  $("schedule_day").value = state.day;
  const body = await api(`api/v1/schedule?from=${state.day}&days=${state.days}`);
  const days = Array.from({length: state.days}, (_, i) => addDays(state.day, i));
  $("schedule-table").querySelector("thead").innerHTML = "<tr><th>调解室</th>" +
    days.map((d) => `<th>${text(d)}（周${WEEKDAYS[new Date(`${d}T12:00:00+08:00`).getUTCDay()]}）</th>`).join("") + "</tr>";
  $("schedule-table").querySelector("tbody").innerHTML = body.rooms.map((room) => `<tr><th scope="row">${text(room.name)}<br><small>${text(room.kind_name)} · ${text(room.location)}</small></th>` +
    days.map((d) => `<td>` + room.sessions.filter((s) => chinaDay(s.starts_at) === d).map((s) => s.session_id
      ? `<a class="chip ${text(s.status)}" href="#session/${text(s.session_id)}">${text(fmtTime(s.starts_at))}–${text(fmtTime(s.ends_at))} ${text(s.mediation_number)}<br>${text(s.mediator_names.join("、"))} · ${text(s.status_name)}</a>`
      : `<span class="chip taken">${text(fmtTime(s.starts_at))}–${text(fmtTime(s.ends_at))} 已占用</span>`).join("") + `</td>`).join("") + `</tr>`).join("")
    || `<tr><td>本人工作范围内尚无调解室</td></tr>`;
}

async function loadSession(id) {
  $("session-result").textContent = "";
  const s = await api(`api/v1/sessions/${encodeURIComponent(id)}`);
  state.session = s;
  $("session-title").textContent = `调解记录 · ${s.mediation_number}`;
  const parties = s.workers === null ? `职工${s.representatives_elected ? "代表" : ""}${s.worker_count}人（未获同意，不显示）`
    : `${s.representatives_elected ? "职工代表" : "职工"}：${s.workers.join("、")}`;
  $("session-facts").innerHTML =
    `<dt>调解案件</dt><dd><a href="#case/${text(s.mediation_number)}">${text(s.mediation_number)}</a></dd>` +
    `<dt>时间</dt><dd>${text(fmtDateTime(s.starts_at))}–${text(fmtTime(s.ends_at))}</dd>` +
    `<dt>调解室</dt><dd>${text(s.room_name)}</dd>` +
    `<dt>调解员</dt><dd>${text(s.mediators.join("、"))}</dd>` +
    `<dt>参加单位</dt><dd>${text(s.organisation_names.join("、"))}</dd>` +
    `<dt>当事人</dt><dd>${text(parties)}${s.employer_representative ? "；用人单位代表" : ""}</dd>` +
    `<dt>状态</dt><dd id="session-status">${text(s.status_name)}${s.no_show_name ? `（${text(s.no_show_name)}未到场）` : ""}</dd>`;
  $("session-record").innerHTML = s.record ? `<h3>笔录摘要</h3><p id="record-text">${text(s.record)}</p>`
    : s.record_withheld ? `<p class="missing">${text(s.record_withheld)}</p>` : "";
  $("session-history").innerHTML = s.history.map((h) =>
    `<li>${text(fmtDateTime(h.at))} ${text(state.labels.session_statuses[h.action] || {scheduled: "预约", moved: "改期"}[h.action] || h.action)}：${text(fmtDateTime(h.starts_at))}–${text(fmtTime(h.ends_at))}${h.reason_name ? `（${text(h.reason_name)}）` : ""}</li>`).join("");
  const scheduled = s.status === "scheduled";
  $("record-form").hidden = !scheduled || new Date(s.starts_at) > new Date();
  $("move-form").hidden = !scheduled;
  if (scheduled) {
    if (!state.rooms.length) state.rooms = await api("api/v1/rooms");
    $("move_room").innerHTML = state.rooms.map((r) => `<option value="${text(r.room_id)}" ${r.name === s.room_name ? "selected" : ""}>${text(r.name)}</option>`).join("");
    $("move_day").value = chinaDay(s.starts_at);
    $("move_start").value = fmtTime(s.starts_at);
    $("move_end").value = fmtTime(s.ends_at);
  }
}

// ------------------------------------------------------------------ forms

$("accept-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const on = $("accepted_on").value;
  try { await api(`api/v1/mediations/${encodeURIComponent(state.current.mediation_number)}/accept`, {method: "POST", body: on ? {accepted_on: on} : {}}); await loadCase(state.current.mediation_number); say("case-result", "已受理，规章期限开始计算", true); }
  catch (error) { say("case-result", error.message, false); }
});

$("extend-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = {days: Number($("ext_days").value)};
  if ($("workers_consented_on").value) body.workers_consented_on = $("workers_consented_on").value;
  if ($("employer_consented_on").value) body.employer_consented_on = $("employer_consented_on").value;
  try { await api(`api/v1/mediations/${encodeURIComponent(state.current.mediation_number)}/extensions`, {method: "POST", body}); await loadCase(state.current.mediation_number); say("case-result", "已记录延长", true); }
  catch (error) { say("case-result", error.message, false); }
});

$("reps-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = {worker_refs: Array.from(document.querySelectorAll("#reps_workers input:checked")).map((i) => i.value), elected_on: $("reps_on").value};
  try { await api(`api/v1/mediations/${encodeURIComponent(state.current.mediation_number)}/representatives`, {method: "PUT", body}); await loadCase(state.current.mediation_number); say("case-result", "已记录推举的代表", true); }
  catch (error) { say("case-result", error.message, false); }
});

$("book-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const day = $("book_day").value;
  const body = {
    room_id: $("book_room").value,
    starts_at: atChina(day, $("book_start").value),
    ends_at: atChina(day, $("book_end").value),
    employer_representative: $("book_employer").checked,
  };
  const chosen = Array.from($("book_mediators").selectedOptions).map((o) => o.value);
  if (chosen.length) body.mediator_ids = chosen;
  try {
    const answer = await api(`api/v1/mediations/${encodeURIComponent(state.current.mediation_number)}/sessions`, {method: "POST", body});
    await loadCase(state.current.mediation_number);
    say("case-result", `已预约（调解安排 ${answer.session_id.slice(0, 8)}），已通知各方`, true);
  } catch (error) { say("case-result", error.message, false); }
});

$("assign-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = {
    lead_mediator_id: $("assign_lead").value,
    organisations: Array.from(document.querySelectorAll('#assign_orgs input:checked')).map((i) => i.value),
    reason: $("assign_reason").value,
  };
  try { await api(`api/v1/mediations/${encodeURIComponent(state.current.mediation_number)}/assignment`, {method: "PUT", body}); await loadCase(state.current.mediation_number); say("case-result", "已调整指派", true); }
  catch (error) { say("case-result", error.message, false); }
});

$("record-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = {outcome: $("outcome").value, employer_attended: $("employer_attended").checked};
  if ($("no_show").value) body.no_show = $("no_show").value;
  if ($("record").value.trim()) body.record = $("record").value.trim();
  try { await api(`api/v1/sessions/${encodeURIComponent(state.session.session_id)}/record`, {method: "POST", body}); await loadSession(state.session.session_id); say("session-result", "已保存调解记录", true); }
  catch (error) { say("session-result", error.message, false); }
});

$("move-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const day = $("move_day").value;
  const body = {room_id: $("move_room").value, starts_at: atChina(day, $("move_start").value), ends_at: atChina(day, $("move_end").value), reason: $("move_reason").value};
  try { await api(`api/v1/sessions/${encodeURIComponent(state.session.session_id)}/move`, {method: "POST", body}); await loadSession(state.session.session_id); say("session-result", "已改期，已通知各方", true); }
  catch (error) { say("session-result", error.message, false); }
});

// ------------------------------------------------------------------ navigation and keys

for (const tab of document.querySelectorAll("#tabs button")) tab.addEventListener("click", () => { location.hash = tab.dataset.view; });
$("scope-all").addEventListener("change", () => loadCases());
$("schedule_day").addEventListener("change", () => { state.day = $("schedule_day").value; loadSchedule(); });
$("prev-day").addEventListener("click", () => { state.day = addDays(state.day, -state.days); loadSchedule(); });
$("next-day").addEventListener("click", () => { state.day = addDays(state.day, state.days); loadSchedule(); });
$("by-day").addEventListener("click", () => { state.days = 1; loadSchedule(); });
$("by-week").addEventListener("click", () => { state.days = 7; loadSchedule(); });
document.addEventListener("keydown", (e) => {
  if (e.target.closest("input, select, textarea") || e.ctrlKey || e.metaKey || e.altKey) return;
  const keys = {"1": () => { location.hash = "cases"; }, "2": () => { location.hash = "schedule"; },
    "Escape": () => { location.hash = state.view === "session" ? "schedule" : "cases"; }};
  if (state.view === "schedule") Object.assign(keys, {"[": () => $("prev-day").click(), "]": () => $("next-day").click(), "d": () => $("by-day").click(), "w": () => $("by-week").click()});
  const act = keys[e.key];
  if (act) { e.preventDefault(); act(); }
});
window.addEventListener("hashchange", route);

(async () => {
  [state.labels, state.me] = await Promise.all([api("api/v1/labels"), api("api/v1/me")]);
  for (const select of document.querySelectorAll("select[data-labels]")) {
    for (const [code, name] of Object.entries(state.labels[select.dataset.labels])) select.add(new Option(name, code));
  }
  $("who").textContent = `${state.me.name}（${state.me.role_name}${state.me.organisation_name ? " · " + state.me.organisation_name : ""}）${state.me.coordinator ? "，可调整指派" : ""}`;
  if (state.me.coordinator) $("scope-all").checked = true;
  await route();
})();
