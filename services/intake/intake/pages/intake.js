// Intake pages: a small script, no build step. Collects a form into JSON, posts it to the
// intake API and shows each Chinese validation message next to its field.
"use strict";

// The session cookie signs the person in; the page's CSRF token (sent back in a header)
// shows a state-changing request comes from this page.
function jsonHeaders() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return { "Content-Type": "application/json", "X-CSRF-Token": meta ? meta.content : "" };
}

function tzOffset() {
  const minutes = -new Date().getTimezoneOffset();
  const sign = minutes >= 0 ? "+" : "-";
  const abs = Math.abs(minutes);
  return sign + String(Math.floor(abs / 60)).padStart(2, "0") + ":" + String(abs % 60).padStart(2, "0");
}

function localNow() {
  const d = new Date();
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
}

function setPath(target, path, value) {
  const parts = path.split(".");
  let node = target;
  parts.forEach((part, i) => {
    const last = i === parts.length - 1;
    const nextIsIndex = !last && /^\d+$/.test(parts[i + 1]);
    const key = /^\d+$/.test(part) ? Number(part) : part;
    if (last) {
      node[key] = value;
    } else {
      if (node[key] === undefined) node[key] = nextIsIndex ? [] : {};
      node = node[key];
    }
  });
}

function collect(form) {
  const body = {};
  for (const el of form.querySelectorAll("[name]")) {
    if (el.disabled) continue;
    // Checkboxes of one list (data-list): the values of those ticked, e.g. sharing_consent.
    if (el.type === "checkbox" && el.dataset.list !== undefined) {
      if (el.checked) (body[el.name] = body[el.name] || []).push(el.value);
      continue;
    }
    let value;
    if (el.type === "checkbox") value = el.checked;
    else if (el.value.trim() === "") continue;
    else if (el.type === "datetime-local") value = el.value + ":00" + tzOffset();
    else value = el.value.trim();
    setPath(body, el.name, value);
  }
  if (body.workers) body.workers = body.workers.filter((w) => w !== undefined);
  if (body.consent) body.consent.given_at = new Date().toISOString();
  return body;
}

function clearErrors(form) {
  for (const el of form.querySelectorAll(".error")) el.textContent = "";
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
}

function showErrors(form, errors) {
  let first = null;
  const general = [];
  for (const error of errors) {
    const slot =
      form.querySelector(`[data-error-for="${error.path}"]`) ||
      form.querySelector(`[data-error-for="${error.field}"]`);
    if (!slot) { general.push(error.message); continue; }
    slot.textContent = error.message;
    const input = form.querySelector(`[name="${slot.dataset.errorFor}"]`);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      first = first || input;
    }
  }
  if (first) first.focus();
  return general;
}

function labelOf(form, el) {
  const label = form.querySelector(`label[for="${el.id}"]`);
  return label ? label.textContent.replace(/\s*\*$/, "") : el.name;
}

// A date or time typed half way (e.g. 20261115 into a date field) is unreadable to the
// browser: it reports validity.badInput and value "", and would be sent as if left empty.
// Such a field blocks the submission with a message next to it.
function unreadableDates(form) {
  const errors = [];
  for (const el of form.querySelectorAll('input[type="date"], input[type="datetime-local"]')) {
    if (el.disabled || !el.validity.badInput) continue;
    const what = el.type === "date" ? "日期没有填写完整，请补全年、月、日" : "时间没有填写完整，请补全日期和时刻";
    errors.push({ path: el.name, message: `${labelOf(form, el)}：${what}，或清空此栏` });
  }
  return errors;
}

async function submitForm(form, url, onDone) {
  const result = form.querySelector(".result");
  clearErrors(form);
  const unreadable = unreadableDates(form);
  if (unreadable.length) {
    showErrors(form, unreadable);
    result.className = "result bad";
    result.textContent = "有日期没有填写完整，本次未保存，请看红色提示。";
    return false;
  }
  result.className = "result";
  result.textContent = "正在提交…";
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: jsonHeaders(),
      body: JSON.stringify(collect(form)),
    });
  } catch (err) {
    result.className = "result bad";
    result.textContent = "无法连接受理服务，请检查网络后重试（本次未保存）。";
    return false;
  }
  const data = await response.json().catch(() => ({}));
  if (response.status === 422) {
    const general = showErrors(form, data.errors || []);
    result.className = "result bad";
    result.textContent = general.length ? general.join("；") : "有字段需要修改，请看红色提示。";
    return false;
  }
  if (response.status === 409) {
    // The key (来电流水号, 登记单号) was used before for other content: say so at the key.
    showErrors(form, data.errors || []);
    result.className = "result bad";
    result.textContent = data.message;
    return false;
  }
  if (!response.ok) {
    result.className = "result bad";
    result.textContent = data.message || data.detail || `提交失败（${response.status}），请重试。`;
    return false;
  }
  result.className = "result ok";
  onDone(data, result);
  return true;
}

function fillNow(form) {
  for (const el of form.querySelectorAll('input[type="datetime-local"][data-now]')) el.value = localNow();
}

// After a save a registration form starts the next call or visit: every field is cleared
// except the person's own (``keep``: operator id, centre…), times are "now" again, the
// result stays. Otherwise the next caller's details would go out under the previous key.
function startAfresh(form, { keep = [], afterReset = null }) {
  const kept = keep.map((name) => [name, form.elements[name].value]);
  form.reset();
  for (const [name, value] of kept) form.elements[name].value = value;
  fillNow(form);
  if (afterReset) afterReset();
  const blank = [...form.querySelectorAll("input:not([type=hidden]):not([type=checkbox]), select, textarea")]
    .find((el) => !el.disabled && el.value === "");
  if (blank) blank.focus();
}

// ``afresh`` (registration forms): {keep: [names of fields to keep], afterReset: fn}.
function wire(form, url, onDone, afresh = null) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if ((await submitForm(form, url, onDone)) && afresh) startAfresh(form, afresh);
  });
  // Ctrl+Enter submits from a multi-line field, where Enter starts a new line.
  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  fillNow(form);
}

// The case page, through the one address (projection's page; the same on every page).
function casePageUrl(number) {
  return "/projection/cases/" + encodeURIComponent(number);
}

function caseLink(number) {
  const link = document.createElement("a");
  link.href = casePageUrl(number);
  link.className = "case-link";
  link.textContent = "查看案件";
  return link;
}

function caseAccepted(data, result) {
  const warnings = (data.warnings || []).map((w) => "提示：" + w.message).join("\n");
  result.textContent =
    (data.duplicate ? "此前已登记，案件编号：" : "登记成功，案件编号：") + data.case_number +
    (warnings ? "\n" + warnings : "") + "\n";
  result.append(caseLink(data.case_number));
  result.dataset.caseNumber = data.case_number;
}

// A case by number with its workers masked. 显示 reveals one value with the chosen reason
// (audited); the clear value is written into its cell once and kept nowhere else.
const REVEALABLE = ["name", "mobile", "id_number"];

function wireCaseView(form) {
  const result = form.querySelector(".result");
  const table = form.querySelector("#case-workers");
  const body = table.querySelector("tbody");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    body.textContent = "";
    table.hidden = true;
    const number = form.elements.case_number.value.trim();
    if (!number) { showErrors(form, [{ path: "case_number", message: "请填写案件编号" }]); return; }
    const response = await fetch(`api/v1/cases/${encodeURIComponent(number)}`);
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      result.className = "result bad";
      result.textContent = data.message || data.detail || `查询失败（${response.status}）`;
      return;
    }
    result.className = "result ok";
    result.textContent = `${data.case_number}  ${data.employer_name}  ${data.status}`;
    data.workers.forEach((worker, index) => {
      const row = body.insertRow();
      row.insertCell().textContent = String(index + 1);
      for (const field of REVEALABLE) {
        const cell = row.insertCell();
        const masked = document.createElement("span");
        masked.textContent = worker[field] ?? "—";
        cell.append(masked);
        if (worker[field]) {
          const button = document.createElement("button");
          button.type = "button";
          button.textContent = "显示";
          button.dataset.worker = String(index);
          button.dataset.field = field;
          button.addEventListener("click", () => reveal(form, number, index, field, masked, button));
          cell.append(" ", button);
        }
      }
    });
    table.hidden = false;
  });
}

async function reveal(form, number, worker, field, slot, button) {
  clearErrors(form);
  const reason = form.elements.reveal_reason.value;
  if (!reason) {
    showErrors(form, [{ path: "reveal_reason", message: "请先选择显示个人信息的理由" }]);
    return;
  }
  const response = await fetch(`api/v1/cases/${encodeURIComponent(number)}/reveal`, {
    method: "POST",
    headers: jsonHeaders(),
    cache: "no-store",
    body: JSON.stringify({ worker, field, reason }),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const result = form.querySelector(".result");
    result.className = "result bad";
    result.textContent = data.message || data.detail || `显示失败（${response.status}）`;
    return;
  }
  slot.textContent = data.value ?? "（未提供）";
  slot.className = "revealed";
  button.remove();
}

function operatorPage() {
  wire(document.getElementById("case-form"), "api/v1/hotline-calls", caseAccepted, {});
  wire(document.getElementById("consultation-form"), "api/v1/consultations",
    (data, result) => { result.textContent = data.duplicate ? "此前已记录。" : "咨询已记录。"; },
    {});
  wire(document.getElementById("search-form"), "api/v1/case-searches/by-mobile",
    (rows, result) => {
      result.textContent = rows.length ? rows.map((r) =>
        r.case_number + "  " + r.employer_name + "  " + r.status).join("\n") : "没有找到案件。";
    });
  wireCaseView(document.getElementById("case-view-form"));
}

function walkInPage() {
  const form = document.getElementById("walk-in-form");
  const newSubmission = () => { form.desk_submission_id.value = crypto.randomUUID(); };
  newSubmission();
  const template = document.getElementById("worker-template").innerHTML;
  document.getElementById("add-worker").addEventListener("click", () => {
    const box = document.getElementById("workers");
    const index = box.querySelectorAll("fieldset.worker").length;
    box.insertAdjacentHTML("beforeend", template.replaceAll("__I__", String(index))
      .replace("职工 1", "职工 " + (index + 1)));
    document.getElementById("workers-" + index + "-name").focus();
  });
  wire(form, "api/v1/walk-in-registrations", caseAccepted, {
    keep: ["centre"],
    afterReset: () => {
      for (const extra of [...document.querySelectorAll("#workers fieldset.worker")].slice(1))
        extra.remove();
      newSubmission();
    },
  });
  wireCaseView(document.getElementById("case-view-form"));
}

// 查找案件: one box, a reason; each result links to its case page.
function searchPage() {
  const form = document.getElementById("find-form");
  const list = document.getElementById("found");
  wire(form, "api/v1/case-searches", (rows, result) => {
    list.textContent = "";
    result.textContent = rows.length ? `找到 ${rows.length} 个案件：` : "没有找到案件。";
    for (const row of rows) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = row.url;
      link.textContent = row.case_number;
      item.append(link, "  " + [
        row.reported_at.slice(0, 10),
        row.status_label,
        row.worker_names_masked.join("、"),
        row.employer_name,
      ].join("  "));
      if (row.voided) item.className = "voided";
      list.append(item);
    }
  });
  form.dataset.ready = "yes";
}

// URLs are relative to the page: /operator directly, /intake/operator behind the proxy.
({ operator: operatorPage, "walk-in": walkInPage, search: searchPage })[document.body.dataset.page]();
