// A lawyer's own cases (the API returns only those assigned to the signed-in lawyer).
const $ = (id) => document.getElementById(id);
const text = (s) => { const span = document.createElement("span"); span.textContent = s ?? ""; return span.innerHTML; };

function clockText(c) {
  if (!c) return "—";
  const left = c.days_left < 0 ? `已超期${-c.days_left}天` : c.days_left === 0 ? "今天届满" : `剩${c.days_left}天`;
  return `${c.label} ${c.due_on}（${left}）`;
}

async function load() {
  const response = await fetch("api/v1/my/applications");
  const data = await response.json();
  if (!response.ok) { $("empty").hidden = false; $("empty").textContent = data.message || data.detail; return; }
  const body = $("cases").tBodies[0];
  $("empty").hidden = data.applications.length > 0;
  body.innerHTML = data.applications.map((a) =>
    `<tr><td>${text(a.application_number)}</td><td>${text(a.matter_label)}</td>` +
    `<td>${text(a.status_label)}${a.provisional ? "（先行援助）" : ""}</td><td>${text(a.employer_name || "—")}</td>` +
    `<td>${text(clockText(a.clocks[0]))}</td></tr>`).join("");
}
load();
