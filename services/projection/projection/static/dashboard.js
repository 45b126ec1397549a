// The supervisors' dashboard (dashboard.html). URLs are relative to the page: /dashboard on
// projection's own port, /projection/dashboard behind the proxy.
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
// Chinese names of codes come with the figures (weiquan_shared/labels.py, one table).
const fillSelect = (select, names) => { for (const [code, name] of Object.entries(names)) $(select).insertAdjacentHTML("beforeend", `<option value="${code}">${esc(name)}</option>`); };

const PAGE = 20;
// What the lower panel shows: a kind (cases, consultations, deadlines, employers), its title and filters.
let drill = {kind: "cases", title: "全部受理案件", filters: {}, offset: 0};
let districtsLoaded = false;
const charts = {};
for (const name of ["channel", "category", "district", "industry", "status"]) {
  charts[name] = echarts.init($("chart-" + name));
  charts[name].setOption({animationDurationUpdate: 300});
  charts[name].on("click", (p) => openDrill({kind: "cases", title: `${p.name}`, filters: {[p.data.filter]: p.data.code}}));
}
window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));

function chinaToday() { return new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10); }
function periodParams() {
  const today = chinaToday(), y = +today.slice(0, 4), m = +today.slice(5, 7);
  const choice = $("period").value;
  $("custom").hidden = choice !== "custom";
  const codes = {year: `${y}`, h1: `${y}H1`, h2: `${y}H2`, quarter: `${y}Q${Math.ceil(m / 3)}`, month: `${y}-${String(m).padStart(2, "0")}`, last_year: `${y - 1}`};
  if (codes[choice]) return {period: codes[choice]};
  if (choice === "custom") return {...($("from").value && {from: $("from").value}), ...($("to").value && {to: $("to").value})};
  return {};
}
function scopeParams() {
  const params = periodParams();
  if ($("district").value) params.district = $("district").value;
  return params;
}
const query = (params) => new URLSearchParams(params).toString();

function bar(chart, rows, filter, horizontal) {
  const data = rows.map((r) => ({value: r.cases, name: r.name, code: r.code, filter}));
  const names = rows.map((r) => r.name);
  chart.setOption({
    grid: {left: horizontal ? 150 : 40, right: 30, top: 24, bottom: horizontal ? 20 : 50},
    tooltip: {trigger: "item", formatter: (p) => `${esc(p.name)}：${p.value} 件（点击查看案件）`},
    xAxis: horizontal ? {type: "value", minInterval: 1} : {type: "category", data: names, axisLabel: {rotate: 30, interval: 0}},
    yAxis: horizontal ? {type: "category", data: names, inverse: true} : {type: "value", minInterval: 1},
    series: [{type: "bar", data, itemStyle: {color: "#c62828"}, label: {show: true, position: horizontal ? "right" : "top"}}],
  });
}
function pie(chart, rows, filter) {
  chart.setOption({
    tooltip: {trigger: "item", formatter: (p) => `${esc(p.name)}：${p.value} 件（${p.percent}%）`},
    legend: {bottom: 0},
    series: [{type: "pie", radius: ["35%", "65%"], data: rows.map((r) => ({value: r.cases, name: r.name, code: r.code, filter})), label: {formatter: "{b}\n{c}件"}}],
  });
}

// Same-origin requests carry the session cookie; the API answers only the caller's districts.
const api = (path, params) => fetch(path + (params ? "?" + query(params) : ""), {credentials: "same-origin"});
const SIGNED_OUT = "请先登录：未登录或登录已过期，登录后刷新本页";
async function refresh() {
  try {
    const res = await api("api/v1/dashboard", scopeParams());
    if (res.status === 401) { $("updated").textContent = SIGNED_OUT; return; }
    if (!res.ok) throw new Error(res.status);
    const d = await res.json();
    if (!districtsLoaded) {
      // "All" is all of the caller's districts (全市 for a city supervisor); a single
      // district needs no further choice.
      $("district").options[0].textContent = d.scope.label;
      if (d.districts.length > 1) {
        for (const o of d.districts) $("district").insertAdjacentHTML("beforeend", `<option value="${o.code}">${esc(o.name)}</option>`);
      }
      fillSelect("q-status", d.labels.statuses);
      fillSelect("q-category", d.labels.categories);
      fillSelect("q-channel", d.labels.channels);
      districtsLoaded = true;
    }
    $("kpi-cases").textContent = d.totals.cases;
    $("kpi-workers").textContent = d.totals.workers;
    $("kpi-consultations").textContent = d.figures.consultations;
    $("kpi-groups").textContent = d.totals.group_disputes;
    $("kpi-platform").textContent = d.figures.platform_cases;
    $("kpi-deadlines").textContent = d.figures.deadlines_at_risk;
    $("kpi-employers").textContent = d.figures.repeat_employers;
    $("kpi-awaiting").textContent = d.totals.awaiting_triage;
    const rate = (r) => (r === null ? "—" : `${Math.round(r * 1000) / 10}%`);
    $("kpi-satisfaction").textContent = rate(d.satisfaction.rate);
    $("kpi-satisfaction-label").textContent = `调解满意率（收回评价 ${d.satisfaction.answers} 份）`;
    $("kpi-satisfaction-legal-aid").textContent = rate(d.legal_aid.satisfaction_rate);
    $("kpi-satisfaction-legal-aid-label").textContent = `法律援助满意率（已评价 ${d.legal_aid.answered} 件，目标≥95%）`;
    $("satisfaction-by-district").innerHTML = d.satisfaction.by_district.length
      ? d.satisfaction.by_district.map((x) => `<li><button type="button" class="link" data-district="${esc(x.code)}">${esc(x.name)}：${rate(x.rate)}（${x.satisfied}/${x.answers} 份）</button></li>`).join("")
      : "<li>本期尚未收回评价</li>";
    document.querySelectorAll("#satisfaction-by-district [data-district]").forEach((el) => el.addEventListener("click", () => openDrill({kind: "satisfaction", title: `满意度评价：${el.textContent}`, filters: {district: el.dataset.district}})));
    pie(charts.channel, d.by_channel, "channel");
    bar(charts.category, d.by_category, "category", true);
    bar(charts.district, d.by_district, "district", false);
    bar(charts.industry, d.by_industry, "industry", true);
    pie(charts.status, d.by_status, "status");
    const m = d.mediation;
    $("kpi-mediated").textContent = m.disputes_mediated;
    $("kpi-mediation-workers").textContent = m.workers_covered;
    $("kpi-mediation-rate").textContent = m.success_rate === null ? "—" : `${(m.success_rate * 100).toFixed(1)}%（${m.succeeded}/${m.concluded}）`;
    $("kpi-agreed").textContent = Number(m.money_agreed).toLocaleString("zh-CN");
    $("kpi-recovered").textContent = Number(m.money_recovered).toLocaleString("zh-CN");
    $("kpi-mediation-days").textContent = m.days_to_resolution ?? "—";
    const la = d.legal_aid;
    const pct = (rate, part, whole) => rate === null ? "—" : `${(rate * 100).toFixed(1)}%（${part}/${whole}）`;
    $("kpi-la-applications").textContent = la.applications;
    $("kpi-la-aided").textContent = la.aided;
    $("kpi-la-denied").textContent = la.denied;
    $("kpi-la-completion").textContent = pct(la.completion_rate, la.concluded, la.aided);
    $("kpi-la-satisfaction").textContent = pct(la.satisfaction_rate, la.satisfied, la.answered);
    $("kpi-la-recovered").textContent = Number(la.money_recovered).toLocaleString("zh-CN");
    $("kpi-la-rules").textContent = [...la.granted_by_rule.map((r) => `援助 ${r.rule_id}：${r.applications}`), ...la.denied_by_rule.map((r) => `不予 ${r.rule_id}：${r.applications}`)].join("；") || "—";
    $("kpi-la-districts").textContent = la.by_district.map((x) => `${x.name} ${x.concluded}/${x.aided}`).join("；") || "—";
    $("pending").innerHTML = d.pending.map((p) => `<li>${esc(p.name)}：待${esc(p.waiting_for)}接入后统计</li>`).join("");
    $("export").href = "api/v1/report.xlsx?" + query(scopeParams());
    $("updated").textContent = `${d.period.label} · 更新于 ${new Date().toLocaleTimeString("zh-CN", {timeZone: "Asia/Shanghai"})}`;
    await loadDrill();
  } catch (e) {
    $("updated").textContent = "数据暂不可用，正在重试…";
  }
}

function openDrill(next) {
  drill = {offset: 0, ...next};
  $("drill").scrollIntoView({behavior: "smooth"});
  loadDrill();
}
const KPI_DRILLS = {
  cases: {kind: "cases", title: "全部受理案件", filters: {}},
  groups: {kind: "cases", title: "群体性劳动争议案件", filters: {grouped: true}},
  platform: {kind: "cases", title: "新就业形态劳动者案件", filters: {platform: true}},
  awaiting: {kind: "cases", title: "待分流案件", filters: {status: "awaiting_triage"}},
  deadlines: {kind: "deadlines", title: "法定时限即将届满", filters: {}},
  employers: {kind: "employers", title: "重复投诉用人单位", filters: {}},
  consultations: {kind: "consultations", title: "当场解答的咨询", filters: {}},
  satisfaction: {kind: "satisfaction", title: "收回的满意度评价", filters: {}},
};
document.querySelectorAll("[data-drill]").forEach((el) => el.addEventListener("click", () => openDrill(KPI_DRILLS[el.dataset.drill])));

function searchFilters() {
  const f = {};
  if ($("q-number").value.trim()) f.case_number = $("q-number").value.trim();
  if ($("q-employer").value.trim()) f.employer = $("q-employer").value.trim();
  if ($("q-status").value) f.status = $("q-status").value;
  if ($("q-category").value) f.category = $("q-category").value;
  if ($("q-channel").value) f.channel = $("q-channel").value;
  return f;
}
$("search").addEventListener("submit", (e) => { e.preventDefault(); openDrill({kind: "cases", title: "检索结果", filters: searchFilters()}); });
$("q-reset").addEventListener("click", () => { $("search").reset(); openDrill(KPI_DRILLS.cases); });
$("prev").addEventListener("click", () => { drill.offset = Math.max(0, drill.offset - PAGE); loadDrill(); });
$("next").addEventListener("click", () => { drill.offset += PAGE; loadDrill(); });

const HEADS = {
  cases: ["案件编号", "受理日期", "区县", "渠道", "用人单位", "人数", "类别", "状态"],
  consultations: ["日期", "渠道", "区县", "咨询事项"],
  deadlines: ["案件编号", "区县", "用人单位", "时限", "届满日", "剩余天数"],
  employers: ["用人单位", "区县", "投诉次数", "统计窗口", "涉及案件"],
  satisfaction: ["案件编号", "区县", "评价日期", "评分"],
};
// Every case in every list opens its case page (案件详情).
const caseLink = (n) => `<a href="cases/${encodeURIComponent(n)}">${esc(n)}</a>`;
async function loadDrill() {
  const scope = drill.kind === "deadlines" ? ($("district").value ? {district: $("district").value} : {}) : scopeParams();
  const url = {cases: "api/v1/cases", consultations: "api/v1/consultations", deadlines: "api/v1/deadlines-at-risk", employers: "api/v1/repeat-employers", satisfaction: "api/v1/satisfaction/answers"}[drill.kind];
  const params = {...scope, ...drill.filters, ...(drill.kind === "cases" ? {limit: PAGE, offset: drill.offset} : {})};
  const res = await api(url, params);
  if (!res.ok) return;
  const body = await res.json();
  const rows = drill.kind === "cases" ? body.cases : body.slice(drill.offset, drill.offset + PAGE);
  const total = drill.kind === "cases" ? body.total : body.length;
  $("drill-title").textContent = `明细：${drill.title}（共 ${total} ${drill.kind === "employers" ? "家" : drill.kind === "consultations" ? "次" : drill.kind === "satisfaction" ? "份" : "件"}）`;
  $("drill-head").innerHTML = "<tr>" + HEADS[drill.kind].map((h) => `<th>${h}</th>`).join("") + "</tr>";
  const render = {
    cases: (c) => [caseLink(c.case_number), esc(c.report_day), esc(c.district_name), esc(c.channel_name), esc(c.employer_name), c.worker_count, esc(c.category_name), esc(c.status_name)],
    consultations: (c) => [esc(c.occurred_at.slice(0, 10)), esc(c.channel_name), esc(c.district_name), esc(c.topic_name)],
    deadlines: (d) => [caseLink(d.case_number), esc(d.district_name), esc(d.employer_name), esc(d.kind_name), esc(d.due_on), d.days_left],
    employers: (e) => [esc(e.employer_name), esc(e.district_name), e.case_count, `${e.window_days}日`, e.case_numbers.map(caseLink).join("、")],
    satisfaction: (a) => [caseLink(a.case_number), esc(a.district_name), esc(a.answered_day), `${a.score}分（${esc(a.score_name)}）`],
  }[drill.kind];
  $("drill-body").innerHTML = rows.length ? rows.map((r) => "<tr>" + render(r).map((v) => `<td>${v}</td>`).join("") + "</tr>").join("")
    : `<tr><td colspan="8" class="empty">暂无数据</td></tr>`;
  $("page").textContent = total ? ` 第 ${drill.offset + 1}–${Math.min(total, drill.offset + PAGE)} 条 ` : "";
  $("prev").disabled = drill.offset === 0;
  $("next").disabled = drill.offset + PAGE >= total;
}

for (const id of ["district", "period", "from", "to"]) $(id).addEventListener("change", () => { drill.offset = 0; refresh(); });
refresh();
setInterval(refresh, 2000);

// The mediations behind a mediation figure, with their cases (drill-down).
for (const link of document.querySelectorAll("#mediation a[data-figure]")) {
  link.addEventListener("click", async (e) => {
    e.preventDefault();
    const params = new URLSearchParams(scopeParams());
    params.set("figure", link.dataset.figure);
    const response = await fetch("api/v1/mediations?" + params.toString());
    const list = response.ok ? await response.json() : [];
    $("mediation-cases").innerHTML = list.map((x) => `<li>${esc(x.mediation_number)}（${esc(x.district_name)}，${esc(x.result_name)}，职工${esc(x.worker_count)}人，已追回${esc(x.recovered)}元）：${x.case_numbers.map(esc).join("、")}</li>`).join("") || "<li>无</li>";
  });
}

// The legal-aid applications behind a legal-aid figure (drill-down).
for (const link of document.querySelectorAll("#legal-aid a[data-figure]")) {
  link.addEventListener("click", async (e) => {
    e.preventDefault();
    const params = new URLSearchParams(scopeParams());
    params.set("figure", link.dataset.figure);
    const response = await fetch("api/v1/legal-aid?" + params.toString());
    const list = response.ok ? await response.json() : [];
    $("legal-aid-cases").innerHTML = list.map((x) => `<li>${esc(x.application_number)}（${esc(x.district_name)}，${esc(x.closure_name)}，依据${x.decision_rules.map(esc).join("、") || "—"}，追回${esc(x.amount_recovered)}元）：案件${esc(x.case_number || "—")}</li>`).join("") || "<li>无</li>";
  });
}
