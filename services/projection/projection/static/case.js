// The case page (案件详情, pages.case_page): projection's case file and timeline, and what
// intake holds (the parties, masked; notes and contacts), through the one address. Forms
// post to intake and triage with the session cookie and the page's CSRF token; errors are
// shown in Chinese beside the form (and the field) they belong to.
"use strict";
(() => {
  const main = document.getElementById("case");
  const NUMBER = main.dataset.case;
  const CASE = encodeURIComponent(NUMBER);
  const PROJECTION = "../api/v1/cases/" + CASE;
  const INTAKE = "/intake/api/v1/cases/" + CASE;
  const TRIAGE = "/triage/api/v1/cases/" + CASE;
  const NOTIFICATION = "/notification/api/v1/cases/" + CASE;
  const $ = (id) => document.getElementById(id);

  function headers() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return { "Content-Type": "application/json", "X-CSRF-Token": meta ? meta.content : "" };
  }

  async function call(method, url, body, extraHeaders) {
    let response;
    try {
      response = await fetch(url, {
        method,
        credentials: "same-origin",
        cache: "no-store",
        headers: body === undefined ? {} : { ...headers(), ...(extraHeaders || {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      return { ok: false, status: 0, data: { message: "无法连接服务，请检查网络后重试。" } };
    }
    const data = await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, data };
  }

  // A Chinese sentence from any of the services' error answers.
  function problem(result) {
    const data = result.data || {};
    if (typeof data.message === "string" && data.message) return data.message;
    if (typeof data.detail === "string" && data.detail) return data.detail;
    if (Array.isArray(data.detail) && data.detail.length)
      return data.detail.map((d) => d.msg).join("；");
    if (result.status === 404) return "服务暂不可用或未找到该案件，请稍后重试。";
    return `操作失败（${result.status || "网络错误"}），请重试。`;
  }

  const day = (iso) => (iso ? String(iso).slice(0, 10) : "");
  const moment = (iso) =>
    iso ? new Date(iso).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false }) : "";

  function put(list, items, render) {
    list.textContent = "";
    for (const item of items) {
      const li = document.createElement("li");
      render(li, item);
      list.append(li);
    }
  }

  function describe(dl, pairs) {
    dl.textContent = "";
    for (const [term, value] of pairs) {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = value === null || value === undefined || value === "" ? "—" : String(value);
      dl.append(dt, dd);
    }
  }

  // ------------------------------------------------------------ projection: the case file
  let timelineLength = -1;
  let waited = 0;
  async function loadCase() {
    const result = await call("GET", PROJECTION);
    if (result.status === 404 && timelineLength < 0 && waited < 20) {
      // A case saved a moment ago reaches projection a moment later.
      waited += 1;
      $("load-error").textContent = "正在同步案件信息…";
      setTimeout(loadCase, 500);
      return null;
    }
    if (!result.ok) {
      $("load-error").textContent = "案件信息加载失败：" + problem(result);
      return null;
    }
    $("load-error").textContent = "";
    const file = result.data;
    const c = file.case;
    $("state").textContent = c.state_name;
    $("state").dataset.state = c.state;
    const voided = $("voided");
    if (file.voided) {
      voided.hidden = false;
      voided.textContent = `本案件已于 ${moment(file.voided.at)} 作废（${file.voided.reason_name}` +
        (file.voided.duplicate_of ? `，与案件 ${file.voided.duplicate_of} 重复` : "") +
        "），不计入任何统计和工作队列。";
    } else voided.hidden = true;
    const amount = c.claim_amount === null || c.claim_amount === undefined ? "" :
      Number(c.claim_amount).toLocaleString("zh-CN", { minimumFractionDigits: 2 }) + " 元";
    describe($("summary"), [
      ["办理状态", c.state_name],
      ["受理渠道", c.channel_name],
      ["区县", c.district_name],
      ["受理时间", moment(c.reported_at)],
      ["用人单位", c.employer_name],
      ["行业", c.industry_name],
      ["涉及职工", c.worker_count === null ? "" : `${c.worker_count} 人`],
      ["诉求金额", amount],
      ["争议类别", c.category_name],
      ["分流去向", c.route ? c.status_name : "待分流"],
      ["所属群体性争议", c.group_number || "无"],
      ["重复投诉单位", c.repeat_employer ? "是" : "否"],
      ["下次跟进日期", day(file.next_action_on)],
    ]);
    $("urgency").textContent = c.urgency_name;
    put($("urgency-reasons"), file.urgency_reasons, (li, text) => { li.textContent = text; });
    const body = $("clocks").tBodies[0];
    body.textContent = "";
    for (const clock of file.clocks) {
      const row = body.insertRow();
      const head = document.createElement("th");
      head.scope = "row";
      head.textContent = clock.kind_name;
      row.append(head);
      row.insertCell().textContent = clock.due_on || "—";
      row.insertCell().textContent = clock.state_name;
      row.insertCell().textContent = clock.days_left === null ? "—" : `${clock.days_left} 天`;
      const review = row.insertCell();
      review.textContent = clock.review.length ? clock.review.map((r) => r.text).join("；") : "无";
      if (clock.review.length) row.className = "needs-review";
      row.title = clock.note;
    }
    if (!file.clocks.length) {
      const cell = body.insertRow().insertCell();
      cell.colSpan = 5;
      cell.textContent = "尚无法定时限（待分流）";
    }
    $("responsible").textContent = file.responsible
      ? `${file.responsible.name}（自 ${moment(file.responsible.since)}）`
      : "尚无承办人（待分配）";
    $("consent").textContent = file.consent.scopes.length
      ? `${file.consent.text}（${moment(file.consent.recorded_at)}记录，告知文本 ${file.consent.wording_version}）`
      : file.consent.text;
    for (const box of document.querySelectorAll('#consent-form input[name="scopes"]'))
      box.checked = file.consent.scopes.includes(box.value);
    put($("timeline"), file.events, (li, event) => {
      const time = document.createElement("time");
      time.dateTime = event.occurred_at;
      time.textContent = moment(event.occurred_at);
      li.append(time, " ", event.text);
      li.dataset.type = event.event_type;
    });
    timelineLength = file.events.length;
    return true;
  }

  // After a change: intake's record is current at once; projection's follows by event, so
  // the case file is read again a few times; it is also kept fresh while the page is open.
  let quick = 0;
  function refreshSoon() {
    loadNotes();
    loadEmployerContact();
    loadDeliveries();
    quick = 12;
  }
  // Messages are recorded by notification a moment after the events that cause them: the
  // delivery log is read again every few seconds too.
  setInterval(() => {
    const everyFewSeconds = Date.now() % 5000 < 800;
    if (quick > 0 || everyFewSeconds) {
      quick = Math.max(0, quick - 1);
      if (timelineLength >= 0) loadCase();
      if (everyFewSeconds) loadDeliveries();
    }
  }, 800);

  // ------------------------------------------------------------ intake: parties, notes
  const optionText = (select, value) => {
    const option = select && [...select.options].find((o) => o.value === value);
    return option ? option.textContent : value || "";
  };

  async function loadParties() {
    const result = await call("GET", INTAKE);
    const body = $("parties").tBodies[0];
    body.textContent = "";
    if (!result.ok) {
      $("parties-error").textContent = "当事职工信息暂不可显示：" + problem(result);
      return;
    }
    $("parties-error").textContent = "";
    // The consent form offers the wording the worker agreed to last, if any.
    const version = $("consent-form-wording_version");
    if (version && result.data.sharing_consent_version) version.value = result.data.sharing_consent_version;
    (result.data.workers || []).forEach((worker, index) => {
      const row = body.insertRow();
      row.insertCell().textContent = String(index + 1);
      for (const field of ["name", "mobile", "id_number"]) {
        const cell = row.insertCell();
        const value = document.createElement("span");
        value.textContent = worker[field] || "—";
        cell.append(value);
        if (worker[field] && main.dataset.mayReveal === "yes") {
          const button = document.createElement("button");
          button.type = "button";
          button.className = "reveal";
          button.textContent = "显示";
          button.setAttribute("aria-label", `显示第${index + 1}名职工的${{ name: "姓名", mobile: "手机号", id_number: "身份证号" }[field]}`);
          button.addEventListener("click", () => reveal(index, field, value, button));
          cell.append(" ", button);
        }
      }
    });
  }

  // The employer's contact person, masked by intake (the form replaces it whole).
  async function loadEmployerContact() {
    const result = await call("GET", INTAKE + "/employer-contact");
    if (!result.ok) {
      $("employer-contact-error").textContent = "用人单位联系人暂不可显示：" + problem(result);
      return;
    }
    $("employer-contact-error").textContent = "";
    const found = result.data;
    describe($("employer-contact"), found.recorded
      ? [["姓名", found.name || "—"], ["手机号", found.mobile || "—"], ["电子邮箱", found.email || "—"],
         ["记录时间", moment(found.recorded_at)]]
      : [["联系人", "未记录"]]);
  }

  async function reveal(worker, field, slot, button) {
    const reason = $("reveal-reason");
    if (!reason.value) {
      $("parties-error").textContent = "请先选择显示个人信息的理由（将记入审计）。";
      reason.focus();
      return;
    }
    const result = await call("POST", INTAKE + "/reveal", { worker, field, reason: reason.value });
    if (!result.ok) {
      $("parties-error").textContent = problem(result);
      return;
    }
    $("parties-error").textContent = "";
    slot.textContent = result.data.value ?? "（未提供）";
    slot.className = "revealed";
    button.remove();
  }

  async function loadNotes() {
    const result = await call("GET", INTAKE + "/notes");
    const list = $("notes");
    if (!result.ok) {
      list.textContent = "";
      $("notes-error").textContent = "备注与联系记录暂不可显示：" + problem(result);
      return;
    }
    $("notes-error").textContent = "";
    const entries = result.data;
    if (!entries.length) {
      list.innerHTML = '<li class="empty">暂无备注和联系记录</li>';
      return;
    }
    put(list, entries, (li, entry) => {
      const time = document.createElement("time");
      time.dateTime = entry.at;
      time.textContent = moment(entry.at);
      const who = document.createElement("strong");
      who.textContent = entry.author_name;
      li.append(time, " ", who, " ");
      if (entry.kind === "contact") {
        li.className = "contact";
        let what = `${optionText($("contact-form-method"), entry.method)}：` +
          optionText($("contact-form-outcome"), entry.outcome);
        if (entry.next_action_on) what += `，下次 ${entry.next_action_on}`;
        li.append(what);
        if (entry.text) li.append("。", entry.text);
      } else {
        li.className = "note";
        li.append("备注：", entry.text || "");
      }
    });
  }

  // ------------------------------------------------------------ notification: deliveries
  // What was sent to whom (by position, the address masked by notification), when, on which
  // channel, and whether it went; the survey link itself is never shown.
  async function loadDeliveries() {
    const result = await call("GET", NOTIFICATION + "/deliveries");
    const list = $("deliveries");
    if (!result.ok) {
      list.textContent = "";
      $("deliveries-error").textContent = "通知记录暂不可显示：" + problem(result);
      return;
    }
    $("deliveries-error").textContent = "";
    if (!result.data.length) {
      list.innerHTML = '<li class="empty">暂无通知记录</li>';
      return;
    }
    put(list, result.data, (li, entry) => {
      const at = entry.sent_at || entry.failed_at || entry.created_at;
      const time = document.createElement("time");
      time.dateTime = at;
      time.textContent = moment(at);
      const status = document.createElement("strong");
      status.textContent = entry.status_name;
      const to = entry.recipient_to ? `（${entry.recipient_to}）` : "";
      li.className = "delivery " + entry.status;
      li.append(time, " ", status, ` ${entry.channel_name} → ${entry.recipient}${to}：`, entry.text);
    });
  }

  async function loadStaff() {
    const select = $("assign-form-assignee");
    const result = await call("GET", "/identity/api/v1/staff");
    if (!result.ok || !Array.isArray(result.data)) return;  // only "me" then
    for (const person of result.data) {
      const option = document.createElement("option");
      option.value = person.subject || person.id;
      option.textContent = person.role_name ? `${person.name}（${person.role_name}）` : person.name;
      select.append(option);
    }
  }

  // ------------------------------------------------------------ forms
  function clear(form) {
    $(form.id + "-error").textContent = "";
    $(form.id + "-ok").textContent = "";
    for (const slot of form.querySelectorAll(".field-error")) slot.textContent = "";
    for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
  }

  function fail(form, message, fields) {
    $(form.id + "-error").textContent = message;
    let first = null;
    for (const [name, text] of fields) {
      const slot = $(`${form.id}-${name}-error`);
      const control = form.elements[name];
      if (slot) slot.textContent = text;
      if (control && control.setAttribute) {
        control.setAttribute("aria-invalid", "true");
        first = first || control;
      }
    }
    (first || $(form.id + "-error")).focus?.();
  }

  // Field errors from intake's or triage's answer (``errors``: path and message).
  function fieldErrors(data) {
    const errors = (data && data.errors) || [];
    return errors.map((e) => [String(e.path || e.field || "").split(".").pop(), e.message]);
  }

  function wire(id, submit) {
    const form = $(id);
    if (!form) return;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clear(form);
      const local = submit.check ? submit.check(form) : [];
      if (local.length) {
        fail(form, "请按提示修改后再提交。", local);
        return;
      }
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      // One key per submission: a retry of the same note or contact is saved once.
      if (!form.dataset.key) form.dataset.key = crypto.randomUUID();
      const result = await call(submit.method || "POST", submit.url, submit.body(form),
        submit.idempotent ? { "Idempotency-Key": form.dataset.key } : {});
      button.disabled = false;
      if (!result.ok) {
        fail(form, problem(result), fieldErrors(result.data));
        return;
      }
      delete form.dataset.key;
      $(id + "-ok").textContent = submit.done;
      if (submit.reset !== false) form.reset();
      refreshSoon();
    });
  }

  const value = (form, name) => (form.elements[name] ? form.elements[name].value.trim() : "");
  const orNull = (text) => (text === "" ? null : text);

  wire("note-form", {
    url: INTAKE + "/notes",
    check: (f) => (value(f, "text") ? [] : [["text", "请填写备注内容"]]),
    body: (f) => ({ text: value(f, "text") }),
    idempotent: true,
    done: "备注已保存。",
  });
  wire("contact-form", {
    url: INTAKE + "/contacts",
    check: (f) => {
      const next = value(f, "next_action_on");
      const today = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);
      return next && next < today ? [["next_action_on", "下次跟进日期不能早于今天"]] : [];
    },
    body: (f) => ({
      method: value(f, "method"),
      outcome: value(f, "outcome"),
      remark: value(f, "remark"),
      next_action_on: orNull(value(f, "next_action_on")),
    }),
    idempotent: true,
    done: "联系记录已保存。",
  });
  wire("assign-form", {
    url: INTAKE + "/assignment",
    body: (f) => {
      const select = f.elements.assignee;
      const chosen = select.value;
      return {
        assignee_id: orNull(chosen),
        assignee_name: chosen ? select.options[select.selectedIndex].textContent.replace(/（.*）$/, "") : null,
        reason: orNull(value(f, "reason")),
      };
    },
    done: "承办人已更新。",
  });
  wire("consent-form", {
    method: "PUT",
    url: INTAKE + "/consent",
    check: (f) => (value(f, "wording_version") ? [] : [["wording_version", "请填写向职工告知的文本版本"]]),
    body: (f) => ({
      scopes: [...f.querySelectorAll('input[name="scopes"]:checked')].map((b) => b.value),
      wording_version: value(f, "wording_version"),
    }),
    done: "共享同意已记录。",
    reset: false,
  });
  wire("employer-contact-form", {
    method: "PUT",
    url: INTAKE + "/employer-contact",
    check: (f) => (value(f, "mobile") || value(f, "email")
      ? [] : [["mobile", "手机号和电子邮箱至少填写一项"]]),
    body: (f) => ({
      name: orNull(value(f, "name")),
      mobile: orNull(value(f, "mobile")),
      email: orNull(value(f, "email")),
    }),
    done: "用人单位联系人已保存。",
  });
  wire("void-form", {
    url: INTAKE + "/void",
    check: (f) => {
      const problems = [];
      if (!value(f, "reason")) problems.push(["reason", "请选择作废原因"]);
      if (value(f, "reason") === "duplicate" && !value(f, "duplicate_of"))
        problems.push(["duplicate_of", "重复登记时请填写与之重复的案件编号"]);
      return problems;
    },
    body: (f) => ({ reason: value(f, "reason"), duplicate_of: orNull(value(f, "duplicate_of")) }),
    done: "案件已作废。",
  });
  wire("review-form", {
    url: TRIAGE + "/review",
    check: (f) => {
      const problems = [];
      if (!value(f, "resolution")) problems.push(["resolution", "请选择核实结果"]);
      if (value(f, "resolution") === "start_date_recorded" && !value(f, "knew_of_infringement_on"))
        problems.push(["knew_of_infringement_on", "请填写知道或应当知道权利受侵害之日"]);
      return problems;
    },
    body: (f) => ({
      resolution: value(f, "resolution"),
      knew_of_infringement_on: orNull(value(f, "knew_of_infringement_on")),
      note: value(f, "note"),
    }),
    done: "核实结果已保存，法定时限将重新计算。",
  });

  loadCase();
  loadParties();
  loadEmployerContact();
  loadNotes();
  loadDeliveries();
  loadStaff();
})();
