// The one navigation bar on every page (weiquan_shared.navigation): the portal, then the
// pages the signed-in person's role may use, as identity lists them. Served by every
// service at <prefix>/site/nav.js. Behind the proxy only: reached on its own port a
// service has no portal and no identity beside it, and its page shows no bar.
"use strict";
(() => {
  const own = new URL(document.currentScript.src);
  const prefix = own.pathname.slice(0, -"/site/nav.js".length);
  if (!prefix) return;
  const style = document.createElement("link");
  style.rel = "stylesheet";
  style.href = prefix + "/site/nav.css";
  document.head.append(style);

  const link = (href, text, extra) => {
    const a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    Object.assign(a.dataset, extra || {});
    if (href === location.pathname) a.setAttribute("aria-current", "page");
    return a;
  };
  const bar = document.createElement("nav");
  bar.className = "site";
  bar.setAttribute("aria-label", "主导航");
  const home = link("/", "工作台");
  home.className = "home";
  bar.append(home);
  document.body.prepend(bar);

  fetch("/identity/api/v1/navigation", { credentials: "same-origin" })
    .then((response) => (response.ok ? response.json() : null))
    .then((nav) => {
      if (!nav) {
        const next = encodeURIComponent(location.pathname + location.search);
        bar.append(link("/identity/login?next=" + next, "登录"));
        return;
      }
      for (const page of nav.pages) bar.append(link(page.href, page.title, { page: page.href }));
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = nav.name + "（" + nav.role_name + "）";
      bar.append(who);
    })
    .catch(() => {});
})();
