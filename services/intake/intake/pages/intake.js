// Intake pages: a small script, no build step. Collects a form into JSON, posts it to the
// intake API and shows each Chinese validation message next to its field.
"use strict";

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

async function submitForm(form, url, onDone) {
  const result = form.querySelector(".result");
  clearErrors(form);
  result.className = "result";
  result.textContent = "正在提交…";
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(collect(form)),
    });
  } catch (err) {
    result.className = "result bad";
    result.textContent = "无法连接受理服务，请检查网络后重试（本次未保存）。";
    return;
  }
  const data = await response.json().catch(() => ({}));
  if (response.status === 422) {
    const general = showErrors(form, data.errors || []);
    result.className = "result bad";
    result.textContent = general.length ? general.join("；") : "有字段需要修改，请看红色提示。";
    return;
  }
  if (!response.ok) {
    result.className = "result bad";
    result.textContent = data.message || data.detail || `提交失败（${response.status}），请重试。`;
    return;
  }
  result.className = "result ok";
  onDone(data, result);
}

function wire(form, url, onDone) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitForm(form, url, onDone);
  });
  // Ctrl+Enter submits from a multi-line field, where Enter starts a new line.
  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  for (const el of form.querySelectorAll('input[type="datetime-local"][data-now]')) el.value = localNow();
}

function caseAccepted(data, result) {
  const warnings = (data.warnings || []).map((w) => "提示：" + w.message).join("\n");
  result.textContent =
    (data.duplicate ? "此前已登记，案件编号：" : "登记成功，案件编号：") + data.case_number +
    (warnings ? "\n" + warnings : "");
  result.dataset.caseNumber = data.case_number;
}
