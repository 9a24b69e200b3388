// chaosdrill game day: one page for a role or the facilitator. Everything shown that came
// from a person (chat, commands, hints) is set as text (textContent), never as HTML.
"use strict";

(function () {
  const body = document.body;
  const gid = body.dataset.gameday;
  const token = body.dataset.token;
  const me = body.dataset.role;
  const facilitator = me === "facilitator";
  const $ = (id) => document.getElementById(id);
  let lastSeq = -1;
  let source = null;
  let ended = false;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c);
    return node;
  }

  async function api(path, payload, method) {
    const response = await fetch(`/g/${gid}/api/${path}`, {
      method: method || (payload === undefined ? "GET" : "POST"),
      headers: { "Content-Type": "application/json", "X-Token": token },
      body: payload === undefined ? undefined : JSON.stringify(payload),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const detail = typeof data.detail === "string" ? data.detail
        : Array.isArray(data.detail) ? data.detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ")
        : `error ${response.status}`;
      throw new Error(detail);
    }
    return data;
  }

  // -- the feed ----------------------------------------------------------------------------
  function toConsole(entry) {
    const box = $("console");
    if (!box) return;
    const block = el("div", { class: `out ${entry.kind}` });
    if (entry.line) block.append(el("div", { class: "typed", text: `${entry.clock}  ${me}> ${entry.line}` }));
    if (entry.kind === "refused") block.append(el("div", { class: "refused", text: entry.text }));
    if (entry.output) block.append(el("pre", { text: entry.output }));
    box.prepend(block);
  }

  const LABELS = { page: "PAGE", command: "", refused: "refused", help: "help", injection: "injected",
    hint: "hint", clock: "clock", ended: "ended" };

  function toChannel(entry) {
    const list = $("channel");
    const item = el("li", { class: `entry ${entry.kind}${entry.private ? " private" : ""}`, "data-seq": String(entry.seq) });
    item.append(el("span", { class: "when", text: entry.clock }));
    item.append(el("span", { class: "who", text: entry.by }));
    const label = entry.kind === "hint" ? (facilitator ? "private hint" : "private hint from the facilitator") : LABELS[entry.kind];
    if (label) item.append(el("span", { class: `tag ${entry.kind}`, text: label }));
    item.append(el("span", { class: "text", text: entry.text }));
    if (facilitator && entry.output) {
      const more = el("details", {}, el("summary", { text: "output" }), el("pre", { text: entry.output }));
      item.append(more);
    }
    list.prepend(item);
  }

  function take(entry) {
    if (entry.seq <= lastSeq) return;
    lastSeq = entry.seq;
    const mine = entry.by === me;
    if (!facilitator && (entry.kind === "page" || (mine && ["command", "help", "refused"].includes(entry.kind)))) {
      toConsole(entry);
    }
    if (facilitator || !["help", "refused"].includes(entry.kind)) toChannel(entry);
  }

  // -- the live picture --------------------------------------------------------------------
  const CHARTS = [
    ["error_ratio", "failed share", (v) => `${(v * 100).toFixed(1)} %`, () => 1],
    ["p95_ms", "worst p95 latency", (v) => `${Math.round(v).toLocaleString()} ms`, (vs) => Math.max(100, ...vs) * 1.1],
    ["orders_vs_normal", "orders vs normal", (v) => `${Math.round(v * 100)} %`, (vs) => Math.max(1.2, ...vs)],
    ["saturation", "busiest component", (v) => `${Math.round(v * 100)} % busy`, () => 1],
  ];
  const SVG = "http://www.w3.org/2000/svg";

  function chart(name, title, fmt, top, values) {
    const w = 240, h = 70;
    const known = values.filter((v) => v !== null);
    const ceiling = top(known) || 1;
    const box = el("figure", { class: "chart", "data-chart": name });
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
    svg.setAttribute("role", "img");
    const n = Math.max(values.length, 2);
    let path = "";
    let open = false;
    values.forEach((v, i) => {
      if (v === null) { open = false; return; }
      const x = (i / (n - 1)) * w;
      const y = h - 4 - (Math.min(v, ceiling) / ceiling) * (h - 8);
      path += `${open ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)} `;
      open = true;
    });
    const line = document.createElementNS(SVG, "path");
    line.setAttribute("d", path || "M0,0");
    line.setAttribute("class", "line");
    svg.append(line);
    const last = values.length ? values[values.length - 1] : null;
    const now = last === null ? "no data" : fmt(last);
    box.append(svg, el("figcaption", {}, el("span", { text: title }), el("strong", { class: last === null ? "nodata" : "", text: now })));
    svg.setAttribute("aria-label", `${title}: ${now}`);
    return box;
  }

  function showLive(live) {
    $("clock").textContent = live.clock;
    $("clock-state").textContent = live.ended ? `ended (${live.ended})`
      : live.paused ? "paused" : `${live.speed}× real time · ${live.horizon_left} left in the shift`;
    const charts = $("charts");
    charts.replaceChildren(...CHARTS.map(([key, title, fmt, top]) => chart(key, title, fmt, top, live.charts[key] || [])));
    $("chart-span").textContent = `last ${live.charts.minutes} min, one point a minute, from ${live.charts.first}`;
    const alerts = $("alerts");
    alerts.replaceChildren(...(live.alerts.length ? live.alerts.map((a) =>
      el("li", { class: a.severity }, el("span", { class: "tag", text: a.severity }), el("span", { text: ` ${a.summary} ` }), el("span", { class: "muted", text: `since ${a.since}` })))
      : [el("li", { class: "muted", text: "no alert firing" })]));
    const pages = $("pages");
    pages.replaceChildren(...live.pages.map((p) => el("p", { class: p.acknowledged_by ? "page acked" : "page open",
      text: `${p.id} paged at ${p.paged_at}` + (p.acknowledged_by ? ` — acknowledged by ${p.acknowledged_by}` : " — not acknowledged") + (p.escalated ? " (escalated to the secondary)" : "") })));
    const ack = $("ack");
    if (ack) ack.disabled = live.pages.every((p) => p.acknowledged_by) || Boolean(live.ended);
    if (facilitator) {
      $("start").disabled = !live.paused || Boolean(live.ended);
      $("pause").disabled = live.paused || Boolean(live.ended);
      const speed = $("speed");
      if (speed && document.activeElement !== speed) speed.value = String(live.speed);
    }
  }

  // -- the end -----------------------------------------------------------------------------
  function seconds(s) {
    if (s === null || s === undefined) return "never";
    const m = Math.floor(s / 60), r = Math.round(s % 60);
    return m ? `${m} min ${r} s` : `${r} s`;
  }

  function after(s, what) {
    return s === null || s === undefined ? "never" : `${seconds(s)} ${what}`.trim();
  }

  function showScorecard(card) {
    if (!card) return;
    ended = true;
    const box = $("scorecard");
    box.hidden = false;
    const team = card.team, co = card.coordination;
    const rows = Object.entries(card.roles).map(([role, c]) => el("tr", {},
      ...[role, c.commands, c.looks, c.acts, c.updates, c.declarations, c.messages, c.remedied.join(", ") || "—",
        c.harmful, c.wrong, c.refused, c.hints, seconds(c.first_after_page)].map((v) => el("td", { text: String(v) }))));
    const head = el("tr", {}, ...["role", "commands", "looks", "acts", "updates", "declarations", "messages",
      "remedied", "harmful", "wrong", "refused", "hints", "first command after the page"].map((h) => el("th", { text: h })));
    const dup = co.duplicates.length ? co.duplicates.map((d) => `${d.command} (${d.first}, then ${d.again} ${Math.round(d.after)} s later)`).join("; ") : "none";
    box.replaceChildren(
      el("h2", { text: `The game day is over — team score ${team.score} / 100` }),
      el("p", { text: `It was ${card.scenario.name}: ${card.scenario.description}` }),
      el("h3", { text: "Coordination" }),
      el("ul", {},
        el("li", { text: `page acknowledged: ${after(co.ack_after, "after the page")}` }),
        el("li", { text: `incident declared by its commander: ${after(co.commander_after, "after the page")}` }),
        el("li", { text: `from the declared cause to the first action that remedied it: ${after(co.diagnosis_to_action, "")}` }),
        el("li", { text: `duplicated work: ${dup}` }),
        el("li", { text: `private hints sent: ${co.hints}` })),
      el("h3", { text: "Each role" }),
      el("table", { class: "list" }, el("thead", {}, head), el("tbody", {}, ...rows)),
      el("h3", { text: "The team's scorecard (as chaosdrill scores any run)" }),
      el("pre", { class: "scorecard-text", text: team.text }),
      el("p", {}, el("a", { href: `/g/${gid}/files/${token}/report.html`, target: "_blank", id: "report-link", text: "the post-mortem report" })),
    );
    for (const id of ["command", "chat", "search", "inject", "hint"]) {
      const form = $(id);
      if (form) for (const c of form.elements) c.disabled = true;
    }
    box.scrollIntoView({ behavior: "smooth" });
  }

  // -- wiring ------------------------------------------------------------------------------
  async function load() {
    const state = await api("state");
    state.feed.forEach(take);
    showLive(state.live);
    if (facilitator) {
      $("scenario-name").textContent = state.scenario;
      $("speed").replaceChildren(...state.speeds.map((s) => el("option", { value: String(s), text: `${s}×` })));
      $("speed").value = String(state.live.speed);
      $("hint-to").replaceChildren(...Object.keys(state.roles).map((r) => el("option", { value: r, text: r })));
    }
    if (state.scorecard) showScorecard(state.scorecard);
    else connect();
  }

  function connect() {
    source = new EventSource(`/g/${gid}/api/events?token=${encodeURIComponent(token)}&after=${lastSeq}`);
    source.addEventListener("entry", (e) => take(JSON.parse(e.data)));
    source.addEventListener("live", (e) => showLive(JSON.parse(e.data).live));
    source.addEventListener("ended", (e) => { showScorecard(JSON.parse(e.data)); source.close(); });
    source.onerror = () => {
      if (ended) { source.close(); return; }
      source.close();
      setTimeout(() => api("state").then((s) => { s.feed.forEach(take); showLive(s.live); if (s.scorecard) showScorecard(s.scorecard); else connect(); }).catch(() => setTimeout(connect, 2000)), 1000);
    };
  }

  function on(id, event, fn) {
    const node = $(id);
    if (node) node.addEventListener(event, fn);
  }

  async function run(line, errorBox) {
    $(errorBox).textContent = "";
    try {
      take(await api("command", { line }));
    } catch (err) {
      $(errorBox).textContent = err.message;
    }
  }

  on("command", "submit", (e) => {
    e.preventDefault();
    const input = $("command-line");
    if (!input.value.trim()) return;
    run(input.value, "command-error");
    input.value = "";
  });
  on("search", "submit", (e) => {
    e.preventDefault();
    const text = $("search-text").value.trim();
    if (text) run(`logs --grep ${text}`, "command-error");
  });
  on("chat", "submit", (e) => {
    e.preventDefault();
    const input = $("chat-text");
    if (!input.value.trim()) return;
    run(`say ${input.value}`, "command-error");
    input.value = "";
  });
  on("ack", "click", () => run("ack", "command-error"));
  document.querySelectorAll("button[data-cmd]").forEach((b) => b.addEventListener("click", () => run(b.dataset.cmd, "command-error")));

  async function control(path, payload) {
    $("control-error").textContent = "";
    try {
      return await api(path, payload);
    } catch (err) {
      $("control-error").textContent = err.message;
      return null;
    }
  }
  on("start", "click", () => control("facilitator/clock", { paused: false }));
  on("pause", "click", () => control("facilitator/clock", { paused: true }));
  on("speed", "change", () => control("facilitator/clock", { speed: Number($("speed").value) }));
  on("end", "click", async () => {
    if (!window.confirm("End the game day for everyone now?")) return;
    $("end").disabled = true;
    $("control-error").textContent = "scoring the game day and writing its post-mortem…";
    const card = await control("facilitator/end", {});
    if (card) { $("control-error").textContent = ""; showScorecard(card); }
  });
  on("inject", "submit", async (e) => {
    e.preventDefault();
    const entry = $("inject-entry").value.trim();
    if (!entry) return;
    if (await control("facilitator/inject", { kind: $("inject-kind").value, entry })) $("inject-entry").value = "";
  });
  on("hint", "submit", async (e) => {
    e.preventDefault();
    const text = $("hint-text").value.trim();
    if (!text) return;
    if (await control("facilitator/hint", { to: $("hint-to").value, text })) $("hint-text").value = "";
  });
  on("suggest", "click", async () => {
    const found = await control("facilitator/suggestion");
    if (found) $("hint-text").value = found.hint || "";
    if (found && !found.hint) $("control-error").textContent = "nothing new in the telemetry to point at";
  });

  load().catch((err) => { document.querySelector("main").prepend(el("p", { class: "error", text: `cannot load the game day: ${err.message}` })); });
})();
