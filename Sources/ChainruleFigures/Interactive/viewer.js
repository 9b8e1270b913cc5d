// chainrule's interactive page. Hand-written, no dependencies, no network.
// The drawings are the static figures' SVG, laid out by Graphviz before the
// page was written; this script only points at them: an overlay of boxes and
// wires (from the page's data) takes the hover, the clicks and the highlights.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("chainrule-data").textContent);
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";
  const state = {
    view: 0, scale: 1, x: 0, y: 0,
    step: null,          // null: not stepping; else an index into data.steps
    epoch: null,         // null: no training snapshots; else an index into data.snapshots
    palette: data.palette, selected: null, matches: [], match: -1, failure: -1,
  };

  // MARK: numbers and tensors

  /** A JSON number, or the strings the encoder writes for NaN and ±∞. */
  function num(v) {
    if (typeof v === "number") return v;
    if (v === "NaN") return NaN;
    if (v === "Infinity") return Infinity;
    if (v === "-Infinity") return -Infinity;
    return NaN;
  }
  /** Four significant digits, plain or scientific, never "-0". */
  function fmt(v) {
    v = num(v);
    if (Number.isNaN(v)) return "NaN";
    if (!Number.isFinite(v)) return v > 0 ? "∞" : "−∞";
    if (v === 0) return "0";
    const a = Math.abs(v);
    const s = a >= 1e5 || a < 1e-3 ? v.toExponential(3) : String(Number(v.toPrecision(4)));
    return s.replace("-", "−");
  }
  const shapeText = (shape) => (shape.length ? shape.join("×") : "scalar");
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

  /** A tensor in words: a scalar's number; a tensor's shape, min, max and mean. */
  function summary(t) {
    if (!t) return "—";
    if (t.count === 1 && t.data) return fmt(t.data[0]);
    if (t.count === 0) return "empty " + shapeText(t.shape);
    let s = t.min === undefined ? "no finite element" : `min ${fmt(t.min)} · max ${fmt(t.max)} · mean ${fmt(t.mean)}`;
    if (t.nans) s += ` · ${t.nans} NaN`;
    if (t.infinities) s += ` · ${t.infinities} ±∞`;
    return s;
  }

  /** The node's value and gradient, from the selected epoch's snapshot when it has them. */
  function valueOf(id) {
    const snap = state.epoch === null ? null : data.snapshots[state.epoch];
    return (snap && snap.values[id]) || data.nodes[id].value;
  }
  function gradientOf(id) {
    const snap = state.epoch === null ? null : data.snapshots[state.epoch];
    return (snap && snap.gradients[id]) || data.nodes[id].gradient;
  }

  // MARK: backward steps

  /** Nodes whose gradient is known, and ops whose backward has run, at the current step. */
  function stepSets() {
    if (state.step === null) return null;
    const known = new Set(), done = new Set();
    for (let k = 0; k <= state.step; k++) {
      const s = data.steps[k];
      s.known.forEach((id) => known.add(id));
      if (s.active !== null && s.active !== undefined) done.add(s.active);
    }
    return { known, done };
  }
  const gradientKnown = (id, sets) => !sets || sets.known.has(id);

  // MARK: views

  const canvas = $("canvas"), stage = $("stage");
  let overlay = null;

  /** Walking the steps of a view drawn page by page (the figures' `--steps` pages, one layout for all). */
  function stepping() { return state.step !== null && !!data.stepPages && data.views[state.view].key === data.stepPages.base; }
  function currentView() { return stepping() ? data.stepPages.view : data.views[state.view]; }

  /** The boxes of the current view that draw `id`: its own, or its collapsed layer's. */
  function boxesOf(id) {
    return Array.from(overlay.querySelectorAll(".box")).filter((b) => {
      const box = currentView().boxes[b.dataset.index];
      if (box.layer !== undefined && box.layer !== null) return data.layers[box.layer].nodes.includes(id);
      return box.node === id;
    });
  }

  function showView(index, keepCamera, previous) {
    previous = previous || currentView();
    state.view = index;
    const view = currentView();
    canvas.innerHTML = stepping() ? data.stepPages.svgs[state.step] : view.svg;
    const drawing = canvas.firstElementChild;
    drawing.setAttribute("width", view.width);
    drawing.setAttribute("height", view.height);
    drawing.classList.add("drawing");
    if (state.palette !== data.palette) recolor(drawing, true);
    overlay = document.createElementNS(SVG, "svg");
    overlay.setAttribute("class", "overlay");
    overlay.setAttribute("width", view.width);
    overlay.setAttribute("height", view.height);
    overlay.setAttribute("viewBox", `0 0 ${view.width} ${view.height}`);
    view.clusters.forEach((c) => {
      const r = document.createElementNS(SVG, "rect");
      Object.entries({ x: c.x, y: c.y, width: c.width, height: 22, class: "frame", "data-layer": c.layer }).forEach(([k, v]) => r.setAttribute(k, v));
      const title = document.createElementNS(SVG, "title");
      title.textContent = `Collapse ${data.layers[c.layer].kind} ${data.layers[c.layer].name}`;
      r.appendChild(title);
      overlay.appendChild(r);
    });
    view.wires.forEach((w, i) => {
      const p = document.createElementNS(SVG, "path");
      p.setAttribute("d", w.path);
      p.setAttribute("class", "wire");
      p.dataset.index = i;
      p.dataset.source = w.source;
      if (w.consumer !== undefined && w.consumer !== null) p.dataset.consumer = w.consumer;
      overlay.appendChild(p);
    });
    view.boxes.forEach((b, i) => {
      const r = document.createElementNS(SVG, "rect");
      Object.entries({ x: b.x, y: b.y, width: b.width, height: b.height, class: "box", tabindex: 0, role: "button" }).forEach(([k, v]) => r.setAttribute(k, v));
      if (b.round) { r.setAttribute("rx", b.width / 2); r.setAttribute("ry", b.height / 2); } else r.setAttribute("rx", 4);
      r.dataset.index = i;
      r.dataset.node = b.node;
      r.dataset.kind = b.kind;
      if (b.layer !== undefined && b.layer !== null) r.dataset.layer = b.layer;
      const n = data.nodes[b.node];
      r.setAttribute("aria-label", b.kind === "layer" ? `layer ${data.layers[b.layer].name}: press Enter to expand` : `${n.name}${n.op ? " (" + n.op + ")" : ""}`);
      overlay.appendChild(r);
    });
    canvas.appendChild(overlay);
    canvas.style.width = view.width + "px";
    canvas.style.height = view.height + "px";
    stage.dataset.view = view.key;
    $("view").value = String(index);
    $("view").disabled = stepping();
    if (keepCamera && previous) {
      // Keep the point under the middle of the stage where it was (the frame of an expanded layer grows around it).
      const sx = view.width / previous.width, sy = view.height / previous.height;
      const cx = (stage.clientWidth / 2 - state.x) / state.scale, cy = (stage.clientHeight / 2 - state.y) / state.scale;
      state.x = stage.clientWidth / 2 - cx * sx * state.scale;
      state.y = stage.clientHeight / 2 - cy * sy * state.scale;
      applyCamera();
    } else fit();
    refresh();
  }

  /** Where layer `layer` is drawn in the current view (its box, or its frame when expanded), in points. */
  function layerCentre(layer) {
    const el = overlay.querySelector(`.box[data-layer="${layer}"], .frame[data-layer="${layer}"]`);
    if (!el) return null;
    const b = el.classList.contains("frame") ? currentView().clusters.find((c) => c.layer === layer) : el.getBBox();
    return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
  }

  /** The view that expands exactly the layers `wanted`; else, expanding, the one with the fewest
      layers expanded that has them all, or, collapsing, the one with the most that has no other. */
  function viewFor(wanted, collapsing) {
    const same = data.views.findIndex((v) => v.expanded.length === wanted.length && wanted.every((l) => v.expanded.includes(l)));
    if (same >= 0) return same;
    let best = -1;
    data.views.forEach((v, k) => {
      const fits = collapsing ? v.expanded.every((l) => wanted.includes(l)) : wanted.every((l) => v.expanded.includes(l));
      if (!fits) return;
      if (best < 0 || (collapsing ? v.expanded.length > data.views[best].expanded.length : v.expanded.length < data.views[best].expanded.length)) best = k;
    });
    return best;
  }
  /** Says which layers are open when the page holds no view of just the ones asked for. */
  function viewNote(wanted) {
    const open = currentView().expanded, extra = open.filter((l) => !wanted.includes(l)), missing = wanted.filter((l) => !open.includes(l));
    const names = (ls) => ls.slice().sort((a, b) => a - b).map((l) => data.layers[l].name).join(", ");
    $("view-note").textContent = extra.length ? `no view with only ${names(wanted)} expanded was laid out: ${names(extra)} open too` :
      missing.length ? `no view with ${names(wanted)} expanded was laid out: ${names(missing)} closed too` : "";
  }
  /** Expands `layer`, the layers already open staying open, or collapses it with `collapse`
      (the others staying as they are). The layer stays where it was on the screen. */
  function expand(layer, collapse) {
    const open = currentView().expanded;
    const wanted = collapse ? open.filter((l) => l !== layer) : open.concat(open.includes(layer) ? [] : [layer]);
    const index = viewFor(wanted, collapse);
    if (index < 0) return;
    const before = layerCentre(layer);
    showView(index, true);
    viewNote(wanted);
    const after = layerCentre(layer);
    if (before && after) {
      state.x += (before.x - after.x) * state.scale;
      state.y += (before.y - after.y) * state.scale;
    }
    const frame = collapse ? null : currentView().clusters.find((c) => c.layer === layer);
    if (frame) {
      // The whole frame in sight, title included: zoomed out if it is larger than the stage, moved in if it sticks out.
      const w = stage.clientWidth, h = stage.clientHeight, m = 12;
      const fits = Math.min((w - 2 * m) / frame.width, (h - 2 * m) / frame.height);
      if (fits < state.scale) {
        state.scale = fits;
        state.x = (w - frame.width * fits) / 2 - frame.x * fits;
        state.y = (h - frame.height * fits) / 2 - frame.y * fits;
      }
      const left = frame.x * state.scale + state.x, top = frame.y * state.scale + state.y;
      const right = left + frame.width * state.scale, bottom = top + frame.height * state.scale;
      if (left < m) state.x += m - left; else if (right > w - m) state.x -= right - (w - m);
      if (top < m) state.y += m - top; else if (bottom > h - m) state.y -= bottom - (h - m);
    }
    applyCamera();
  }

  // MARK: camera

  function applyCamera() { canvas.style.transform = `translate(${state.x}px, ${state.y}px) scale(${state.scale})`; }
  function fit() {
    const view = currentView(), w = stage.clientWidth || 800, h = stage.clientHeight || 600;
    state.scale = Math.min(w / (view.width + 24), h / (view.height + 24), 2);
    state.x = (w - view.width * state.scale) / 2;
    state.y = (h - view.height * state.scale) / 2;
    applyCamera();
  }
  function zoom(factor, px, py) {
    const s = Math.min(Math.max(state.scale * factor, 0.05), 12);
    if (px === undefined) { px = stage.clientWidth / 2; py = stage.clientHeight / 2; }
    state.x = px - (px - state.x) * (s / state.scale);
    state.y = py - (py - state.y) * (s / state.scale);
    state.scale = s;
    applyCamera();
  }
  function centerOn(el) {
    const b = el.getBBox();
    state.x = stage.clientWidth / 2 - (b.x + b.width / 2) * state.scale;
    state.y = stage.clientHeight / 2 - (b.y + b.height / 2) * state.scale;
    applyCamera();
  }
  stage.addEventListener("wheel", (e) => {
    e.preventDefault();
    const r = stage.getBoundingClientRect();
    zoom(Math.exp(-e.deltaY * 0.0015), e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });
  let drag = null;
  stage.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    drag = { x: e.clientX, y: e.clientY, sx: state.x, sy: state.y, moved: false };
  });
  window.addEventListener("pointermove", (e) => {
    if (!drag || !(e.buttons & 1)) return;  // a move with the button up is no drag, whatever came before
    const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (!drag.moved && Math.hypot(dx, dy) < 4) return;
    drag.moved = true;
    stage.classList.add("dragging");
    state.x = drag.sx + dx;
    state.y = drag.sy + dy;
    applyCamera();
  });
  // A drag that moved swallows the click that ends it (the click handler runs after pointerup, so the
  // drag is kept until then); a press that did not move ends at once, so the next press starts afresh.
  window.addEventListener("pointerup", () => {
    if (drag && drag.moved) { const ended = drag; setTimeout(() => { if (drag === ended) drag = null; }, 0); } else drag = null;
    stage.classList.remove("dragging");
  });

  // MARK: tooltip

  const tooltip = $("tooltip");
  function facts(rows) {
    return "<table class=facts>" + rows.filter((r) => r).map(([k, v, cls]) => `<tr><th>${esc(k)}</th><td class="${cls || ""}">${v}</td></tr>`).join("") + "</table>";
  }
  function sourceRow(n) {
    if (!n.location) return null;
    return ["source", `<code>${esc(n.location)}</code>` + (n.sourceLine ? `<span class=source>${esc(n.sourceLine)}</span>` : "")];
  }
  function checkRow(n) {
    if (!n.check || n.check.status === "skipped") return null;
    const c = n.check, cls = c.status === "fail" ? "failed" : c.status === "pass" && c.band === "good" ? "good" : "warning";
    return ["check", `${esc(c.status)} · rel err ${fmt(c.maxRelativeError)}`, cls];
  }
  function nodeTip(id, layer) {
    const n = data.nodes[id], sets = stepSets();
    if (layer !== undefined) {
      const l = data.layers[layer];
      return `<h3>${esc(l.kind)} ${esc(l.name)}</h3>` + facts([
        ["ops", String(l.nodes.filter((m) => data.nodes[m].op).length)],
        ["output", `${esc(n.name)} · ${shapeText(n.shape)}`],
        ["value", esc(summary(valueOf(id))), "value"],
        ["gradient", gradientKnown(id, sets) ? esc(summary(gradientOf(id))) : "— (not computed yet)", "gradient"],
        sourceRow(n), ["", "<span class=muted>click to expand its ops</span>"],
      ]);
    }
    const g = gradientOf(id);
    return `<h3>${esc(n.name)}${n.op ? ` <span class=muted>${esc(n.op)}</span>` : ""}</h3>` + facts([
      ["shape", shapeText(n.shape)],
      ["value", esc(summary(valueOf(id))), "value"],
      n.role === "constant" ? ["gradient", "none (a constant)"] :
        ["gradient", gradientKnown(id, sets) ? esc(summary(g)) : "— (not computed yet)", "gradient"],
      ...n.locals.map((l, k) => (l ? [`∂out/∂${data.nodes[n.inputs[k]].name}`, esc(l.replace(/^local /, "")), "local"] : null)),
      checkRow(n), sourceRow(n),
    ]);
  }
  function wireTip(w) {
    const src = data.nodes[w.source], sets = stepSets();
    let gradient, local = null, to = "the output";
    if (w.consumer !== undefined && w.consumer !== null) {
      const c = data.nodes[w.consumer];
      to = `${c.name} (${c.op || "?"}, input ${w.input + 1})`;
      local = c.locals[w.input];
      const sent = c.sent[w.input];
      const shared = c.sent.length > w.input && sent;
      gradient = src.role === "constant" ? "none (a constant)" :
        sets && !sets.done.has(w.consumer) ? "— (not sent yet)" : esc(summary(shared ? sent : gradientOf(w.source)));
    } else {
      gradient = src.role === "constant" ? "none (a constant)" : gradientKnown(w.source, sets) ? esc(summary(gradientOf(w.source))) : "— (not computed yet)";
    }
    return `<h3>${esc(src.name)} → ${esc(to)}</h3>` + facts([
      ["shape", shapeText(src.shape)],
      ["value", esc(summary(valueOf(w.source))), "value"],
      ["gradient", gradient, "gradient"],
      local ? ["local", esc(local.replace(/^local /, "")), "local"] : null,
      sourceRow(src),
    ]);
  }
  function showTip(html, x, y) {
    tooltip.innerHTML = html;
    tooltip.hidden = false;
    const w = tooltip.offsetWidth, h = tooltip.offsetHeight;
    tooltip.style.left = Math.max(4, Math.min(x + 14, window.innerWidth - w - 4)) + "px";
    tooltip.style.top = Math.max(4, Math.min(y + 14, window.innerHeight - h - 4)) + "px";
  }
  function tipFor(el) {
    if (el.classList.contains("box")) {
      const b = currentView().boxes[el.dataset.index];
      return nodeTip(b.node, b.layer === null ? undefined : b.layer);
    }
    if (el.classList.contains("wire")) return wireTip(currentView().wires[el.dataset.index]);
    return null;
  }
  canvas.addEventListener("pointerover", (e) => {
    const html = tipFor(e.target);
    if (html) showTip(html, e.clientX, e.clientY);
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!tooltip.hidden) showTip(tooltip.innerHTML, e.clientX, e.clientY);
  });
  canvas.addEventListener("pointerout", () => { tooltip.hidden = true; });
  canvas.addEventListener("focusin", (e) => {
    const html = tipFor(e.target);
    if (!html) return;
    const r = e.target.getBoundingClientRect();
    showTip(html, r.right, r.top);
  });
  canvas.addEventListener("focusout", () => { tooltip.hidden = true; });

  // MARK: clicks

  function activate(el) {
    if (el.classList.contains("frame")) return expand(Number(el.dataset.layer), true);
    if (!el.classList.contains("box") && !el.classList.contains("wire")) return;
    const v = currentView();
    if (el.classList.contains("wire")) return openPanel(v.wires[el.dataset.index].source);
    const b = v.boxes[el.dataset.index];
    if (b.layer !== null && b.layer !== undefined) return expand(b.layer);
    openPanel(b.node);
  }
  canvas.addEventListener("click", (e) => {
    if (drag && drag.moved) return;
    tooltip.hidden = true;
    activate(e.target);
  });
  canvas.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); activate(e.target); }
  });

  // MARK: the tensor panel

  const panel = $("panel"), panelBody = $("panel-body");
  /** The colour of `t` in −1…1 on the figures' diverging map. */
  function diverging(t) {
    const n = data.diverging.length - 1;
    return data.diverging[Math.round((Math.min(Math.max(t, -1), 1) + 1) / 2 * n)];
  }
  function heatCells(t) {
    const bytes = atob(t.heatmap.cells), lo = num(t.min ?? 0), hi = num(t.max ?? 0), out = new Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) {
      const q = bytes.charCodeAt(i);
      out[i] = q === 251 ? NaN : q === 252 ? Infinity : q === 253 ? -Infinity : lo + (hi - lo) * q / 250;
    }
    return out;
  }
  function absMax(t) { return t && t.min !== undefined ? Math.max(Math.abs(num(t.min)), Math.abs(num(t.max))) : 0; }
  function heatFigure(t, label, cls, scale) {
    const fig = document.createElement("figure");
    if (!t || !t.heatmap) { fig.innerHTML = `<figcaption class=${cls}>${label} ${t ? esc(summary(t)) : "—"}</figcaption>`; return fig; }
    const h = t.heatmap, cells = heatCells(t);
    // Planes in a near-square grid about 240 pixels wide, so that value and gradient stand side by side.
    const planes = h.planes, perRow = Math.ceil(Math.sqrt(planes));
    const cell = Math.max(1, Math.min(32, Math.floor((240 - 4 * (perRow - 1)) / (perRow * h.columns)), Math.floor(240 / h.rows)));
    const box = document.createElement("div");
    box.className = "planes";
    box.style.width = perRow * (h.columns * cell + 2) + 4 * (perRow - 1) + "px";
    for (let p = 0; p < planes; p++) {
      const c = document.createElement("canvas");
      c.className = "heat";
      c.width = h.columns * cell;
      c.height = h.rows * cell;
      c.setAttribute("aria-label", `${label} plane ${p + 1}`);
      const g = c.getContext("2d");
      for (let r = 0; r < h.rows; r++) {
        for (let q = 0; q < h.columns; q++) {
          const v = cells[(p * h.rows + r) * h.columns + q];
          g.fillStyle = Number.isNaN(v) ? data.nonFinite.nan : v === Infinity ? data.nonFinite.positive : v === -Infinity ? data.nonFinite.negative : diverging(scale > 0 ? v / scale : 0);
          g.fillRect(q * cell, r * cell, cell, cell);
        }
      }
      box.appendChild(c);
    }
    fig.appendChild(box);
    const cap = document.createElement("figcaption");
    const pooled = h.pooling[0] > 1 || h.pooling[1] > 1 ? ` · cells average ${h.pooling.join("×")}` : "";
    const hidden = h.hiddenPlanes ? ` · first ${planes} planes of ${planes + h.hiddenPlanes}` : "";
    cap.innerHTML = `<span class=${cls}>${label}</span> ${esc(summary(t))}<br><span class=muted>${shapeText(t.shape)}${pooled}${hidden}</span>`;
    fig.appendChild(cap);
    return fig;
  }
  function colorbar(scale) {
    const wrap = document.createElement("div");
    wrap.className = "colorbar";
    const c = document.createElement("canvas");
    c.width = 200; c.height = 12;
    const g = c.getContext("2d");
    for (let x = 0; x < 200; x++) { g.fillStyle = diverging(x / 99.5 - 1); g.fillRect(x, 0, 1, 12); }
    wrap.append(fmt(-scale), c, fmt(scale));
    return wrap;
  }
  function numbers(t, g) {
    if (!t || !t.data || t.count > 64 || t.count < 2) return "";
    const cols = t.shape.length ? t.shape[t.shape.length - 1] : 1;
    let html = "<table class=numbers aria-label='the numbers'>";
    for (let r = 0; r < t.count / cols; r++) {
      html += "<tr>" + t.data.slice(r * cols, (r + 1) * cols).map((v, i) => {
        const gv = g && g.data ? ` <span class=gradient>${fmt(g.data[r * cols + i])}</span>` : "";
        return `<td><span class=value>${fmt(v)}</span>${gv}</td>`;
      }).join("") + "</tr>";
    }
    return html + "</table>";
  }
  function checkDetails(n) {
    const c = n.check;
    if (!c || c.status === "skipped") return "";
    const cls = c.status === "fail" ? "failed" : c.status === "pass" && c.band === "good" ? "good" : "warning";
    let html = `<h2>Gradient check: <span class=${cls}>${esc(c.status)}</span></h2>`;
    const rows = [["relative error", `${fmt(c.maxRelativeError)} (${esc(c.band)})`], ["compared", `${c.elementsChecked} elements, ${esc(c.method)}`]];
    if (c.failedElements) rows.push(["failed", `${c.failedElements} elements`, "failed"]);
    if (c.problem) rows.push(["problem", esc(c.problem), "failed"]);
    const w = c.worst;
    if (w) {
      rows.push(["worst element", `${esc(w.input)}[${w.index.join(", ")}]` + (w.outputIndex ? ` → out[${w.outputIndex.join(", ")}]` : "")]);
      rows.push(["rule (analytic)", fmt(w.analytic), "gradient"], ["finite difference", fmt(w.numeric), "value"]);
      rows.push(["|a − n|", fmt(w.absoluteError)], ["relative error", fmt(w.relativeError)]);
      if (w.atKink) rows.push(["at a kink", `left ${fmt(w.left)} · right ${fmt(w.right)}`, "warning"]);
    }
    c.kinks.forEach((k) => rows.push([`kink ${esc(k.input)}[${k.index.join(", ")}]`, `left ${fmt(k.left)} · right ${fmt(k.right)} · rule ${fmt(k.analytic)}`, "warning"]));
    if (c.kinkCount > c.kinks.length) rows.push(["", `${c.kinkCount - c.kinks.length} more kinks`]);
    if (c.rule) rows.push(["rule written at", `<code>${esc(c.rule)}</code>` + (c.ruleLine ? `<span class=source>${esc(c.ruleLine)}</span>` : "")]);
    else if (n.op) rows.push(["rule", `the built-in backward of <code>${esc(n.op)}</code>`]);
    return html + facts(rows);
  }
  function openPanel(id) {
    state.selected = id;
    const n = data.nodes[id], sets = stepSets();
    const v = valueOf(id), g = n.role === "constant" || !gradientKnown(id, sets) ? null : gradientOf(id);
    panelBody.innerHTML = `<h2>${esc(n.name)}${n.op ? ` <span class=muted>${esc(n.op)}</span>` : ""}</h2>` +
      facts([["shape", shapeText(n.shape)], ["role", esc(n.role)], n.layer !== undefined && n.layer !== null ? ["layer", esc(data.layers[n.layer].name)] : null, sourceRow(n)]);
    const own = $("own-scales") ? $("own-scales").checked : false;
    const shared = Math.max(absMax(v), absMax(g)) || 1;
    const maps = document.createElement("div");
    maps.className = "maps";
    maps.appendChild(heatFigure(v, "value", "value", own ? absMax(v) || 1 : shared));
    maps.appendChild(heatFigure(g, "gradient", "gradient", own ? absMax(g) || 1 : shared));
    panelBody.appendChild(maps);
    if (!own) panelBody.appendChild(colorbar(shared));
    const toggle = document.createElement("label");
    toggle.innerHTML = `<input type=checkbox id=own-scales ${own ? "checked" : ""}> a colour scale for each`;
    panelBody.appendChild(toggle);
    toggle.querySelector("input").addEventListener("change", () => openPanel(id));
    panelBody.insertAdjacentHTML("beforeend", numbers(v, g) + checkDetails(n));
    if (n.layer !== undefined && n.layer !== null && currentView().expanded.includes(n.layer)) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = `Collapse ${data.layers[n.layer].name}`;
      b.addEventListener("click", () => expand(n.layer, true));
      panelBody.appendChild(b);
    }
    panel.hidden = false;
    refresh();
  }
  function closePanel() { panel.hidden = true; state.selected = null; refresh(); }
  $("panel-close").addEventListener("click", closePanel);

  // MARK: highlights: steps, search, selection

  function refresh() {
    if (!overlay) return;
    const sets = stepSets();
    const step = state.step === null ? null : data.steps[state.step];
    const active = step ? step.active : null;
    const matched = new Set(state.matches);
    overlay.querySelectorAll(".box").forEach((el) => {
      const b = currentView().boxes[el.dataset.index];
      const ids = b.layer !== null && b.layer !== undefined ? data.layers[b.layer].nodes : [b.node];
      el.classList.toggle("active", active !== null && ids.includes(active));
      el.classList.toggle("pending", !!sets && ids.every((id) => data.nodes[id].role !== "constant" && !sets.known.has(id)));
      el.classList.toggle("match", ids.some((id) => matched.has(id)));
      el.classList.toggle("current", state.match >= 0 && ids.includes(state.matches[state.match]));
      el.classList.toggle("selected", state.selected !== null && ids.includes(state.selected));
    });
    overlay.querySelectorAll(".wire").forEach((el) => {
      el.classList.toggle("active", active !== null && Number(el.dataset.consumer) === active);
    });
    epochBadges();
    const caption = $("caption");
    caption.hidden = !step;
    if (step) caption.innerHTML = stepCaption(step);
    $("step-number").textContent = state.step === null ? "" : `step ${state.step} of ${data.steps.length - 1}`;
  }
  function stepCaption(step) {
    const n = data.steps.length - 1;
    if (step.active === null || step.active === undefined) {
      const out = data.nodes[data.output];
      return `<b>Step 0 of ${n}:</b> forward pass done; backward starts at ${esc(out.name)} with gradient <span class=up>${esc(summary(out.gradient))}</span>`;
    }
    const a = data.nodes[step.active];
    const terms = step.terms.map((t) => `${esc(data.nodes[t.input].name)}: <span class=up>${esc(t.upstream)}</span> × <span class=loc>${esc(t.local)}</span> = <span class=down>${esc(t.downstream)}</span>`);
    return `<b>Step ${data.steps.indexOf(step)} of ${n}:</b> ${esc(a.symbol || a.op)} making ${esc(a.name)} sends upstream × local = downstream — ` + terms.join(" · ");
  }
  function setStep(k) {
    if (!data.steps.length) return;
    const was = stepping(), previous = currentView();
    state.step = k === null ? null : Math.max(0, Math.min(k, data.steps.length - 1));
    $("step").value = state.step === null ? data.steps.length - 1 : state.step;
    // The pages share one layout: the camera stays while walking them, and fits on the way in and out.
    if (was || stepping()) showView(state.view, was && stepping(), previous);
    refresh();
    if (state.selected !== null) openPanel(state.selected);
  }
  function search(text) {
    const q = text.trim().toLowerCase();
    state.matches = q ? data.nodes.filter((n) => n.name.toLowerCase().includes(q) || (n.op && n.op.toLowerCase() === q)).map((n) => n.id) : [];
    state.match = -1;
    $("search-count").textContent = q ? `${state.matches.length} match${state.matches.length === 1 ? "" : "es"}` : "";
    refresh();
  }
  function nextMatch() {
    if (!state.matches.length) return;
    state.match = (state.match + 1) % state.matches.length;
    refresh();
    const el = boxesOf(state.matches[state.match])[0];
    if (el) centerOn(el);
  }
  const failed = data.nodes.filter((n) => n.check && n.check.status === "fail").map((n) => n.id);
  function nextFailure() {
    if (!failed.length) return;
    state.failure = (state.failure + 1) % failed.length;
    const id = failed[state.failure];
    if (!boxesOf(id).length && data.nodes[id].layer !== null && data.nodes[id].layer !== undefined) expand(data.nodes[id].layer);
    openPanel(id);
    const el = boxesOf(id)[0];
    if (el) centerOn(el);
  }

  // MARK: palette

  let recolored = false;
  /** Swaps every colour the other palette draws differently (read off both drawings by the page's builder). */
  function recolor(drawing, alternate) {
    drawing.querySelectorAll("[fill], [stroke]").forEach((el) => {
      ["fill", "stroke"].forEach((attr) => {
        const c = el.getAttribute(attr);
        if (!c) return;
        if (!el.dataset["orig" + attr]) el.dataset["orig" + attr] = c;
        const orig = el.dataset["orig" + attr];
        el.setAttribute(attr, alternate ? data.alternate[orig.toLowerCase()] || orig : orig);
      });
    });
    recolored = true;
  }
  function setPalette(name) {
    state.palette = name;
    const colors = data.colors[name];
    Object.entries(colors).forEach(([k, v]) => document.documentElement.style.setProperty("--" + k, v));
    const drawing = canvas.querySelector("svg.drawing");
    if (drawing && (recolored || name !== data.palette)) recolor(drawing, name !== data.palette);
    $("palette").setAttribute("aria-pressed", String(name === "colorblind"));
  }

  // MARK: training snapshots

  function drawLoss() {
    const svg = $("loss"), snaps = data.snapshots, W = 360, H = 90, L = 44, B = 16;
    // A NaN or infinite loss leaves a gap in the curve and no mark.
    const losses = snaps.map((s) => num(s.loss)).filter(Number.isFinite);
    const lo = losses.length ? Math.min(...losses) : 0, hi = losses.length ? Math.max(...losses) : 1, span = hi - lo || 1;
    const x = (i) => L + (W - L - 8) * (snaps.length > 1 ? i / (snaps.length - 1) : 0.5);
    const y = (v) => 6 + (H - B - 10) * (1 - (num(v) - lo) / span);
    const points = snaps.map((s, i) => (Number.isFinite(num(s.loss)) ? `${x(i).toFixed(1)},${y(s.loss).toFixed(1)}` : null)).filter((p) => p).join(" ");
    const e = state.epoch, mark = Number.isFinite(num(snaps[e].loss)) ? `<circle class=mark r=4 cx="${x(e)}" cy="${y(snaps[e].loss)}"/>` : "";
    svg.innerHTML = `<polyline class=curve points="${points}"/>${mark}` +
      `<text x=2 y=12>${fmt(hi)}</text><text x=2 y=${H - B}>${fmt(lo)}</text>` +
      `<text x=${L} y=${H - 2}>epoch ${snaps[0].epoch}</text><text x=${W - 60} y=${H - 2}>${snaps[snaps.length - 1].epoch}</text>`;
    $("epoch-text").textContent = `epoch ${snaps[e].epoch} · loss ${fmt(snaps[e].loss)}`;
  }
  /** Under each box whose node the selected epoch recorded: its value and gradient at that epoch. */
  function epochBadges() {
    overlay.querySelectorAll(".epoch-badge").forEach((el) => el.remove());
    if (state.epoch === null) return;
    const snap = data.snapshots[state.epoch], short = (t) => (t.count === 1 && t.data ? fmt(t.data[0]) : "mean " + fmt(t.mean));
    overlay.querySelectorAll(".box").forEach((el) => {
      const b = currentView().boxes[el.dataset.index], v = snap.values[b.node], g = snap.gradients[b.node];
      if (!v && !g) return;
      const text = document.createElementNS(SVG, "text");
      text.setAttribute("class", "epoch-badge");
      text.setAttribute("x", b.x + b.width / 2);
      text.setAttribute("y", b.y + b.height + 11);
      text.innerHTML = (v ? `<tspan class=value>${esc(short(v))}</tspan>` : "") + (g ? ` <tspan class=gradient>${esc(short(g))}</tspan>` : "");
      overlay.appendChild(text);
    });
  }
  function setEpoch(k) {
    state.epoch = Math.max(0, Math.min(k, data.snapshots.length - 1));
    $("epoch").value = state.epoch;
    drawLoss();
    refresh();
    if (state.selected !== null) openPanel(state.selected);
  }

  // MARK: controls

  data.views.forEach((v, i) => { const o = document.createElement("option"); o.value = String(i); o.textContent = v.title; $("view").appendChild(o); });
  $("view-picker").hidden = data.views.length < 2;
  $("view").addEventListener("change", (e) => { showView(Number(e.target.value), true); $("view-note").textContent = ""; });
  $("fit").addEventListener("click", fit);
  $("zoom-in").addEventListener("click", () => zoom(1.25));
  $("zoom-out").addEventListener("click", () => zoom(0.8));
  $("search").addEventListener("input", (e) => search(e.target.value));
  $("search").addEventListener("keydown", (e) => {
    if (e.key === "Enter") { e.preventDefault(); nextMatch(); }
    if (e.key === "Escape") { e.target.value = ""; search(""); stage.focus(); }
  });
  $("palette").addEventListener("click", () => setPalette(state.palette === "colorblind" ? "default" : "colorblind"));
  if (failed.length) {
    $("failures").hidden = false;
    $("failures").textContent = `✗ ${failed.length} failed`;
    $("failures").addEventListener("click", nextFailure);
  }
  if (data.steps.length > 1) {
    $("steps").hidden = false;
    $("step").max = data.steps.length - 1;
    $("step").value = data.steps.length - 1;
    $("step").addEventListener("input", (e) => setStep(Number(e.target.value)));
    $("step-prev").addEventListener("click", () => setStep(state.step === null ? data.steps.length - 1 : state.step - 1));
    $("step-next").addEventListener("click", () => setStep(state.step === null ? 0 : state.step + 1));
  }
  if (data.snapshots.length) {
    $("training").hidden = false;
    $("epoch").max = data.snapshots.length - 1;
    $("epoch").addEventListener("input", (e) => setEpoch(Number(e.target.value)));
  }
  document.addEventListener("keydown", (e) => {
    const typing = e.target instanceof HTMLInputElement && e.target.type !== "range";
    if (typing || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.target instanceof HTMLInputElement && e.target.type === "range" && e.key !== "Escape") return; // a slider moves itself
    if (e.key === "ArrowRight" && data.steps.length > 1) { e.preventDefault(); setStep(state.step === null ? 0 : state.step + 1); }
    else if (e.key === "ArrowLeft" && data.steps.length > 1) { e.preventDefault(); setStep(state.step === null ? data.steps.length - 1 : state.step - 1); }
    else if (e.key === "Escape") { if (!panel.hidden) closePanel(); else setStep(null); }
    else if (e.key === "/") { e.preventDefault(); $("search").focus(); }
    else if (e.key === "f" || e.key === "F") fit();
    else if (e.key === "+" || e.key === "=") zoom(1.25);
    else if (e.key === "-") zoom(0.8);
    else if (e.key === "c" || e.key === "C") $("palette").click();
    else if ((e.key === "n" || e.key === "N") && failed.length) nextFailure();
  });
  window.addEventListener("resize", () => fit());

  if (data.palette !== "default") setPalette(data.palette);
  showView(0, false);
  if (data.snapshots.length) setEpoch(data.snapshots.length - 1);
  // For tests and the curious: the page's state and its actions.
  /** Places the drawing's origin at (x, y) of the stage, `scale` CSS pixels per point. */
  function setCamera(scale, x, y) { state.scale = scale; state.x = x; state.y = y; applyCamera(); }
  window.chainrule = { data, state, showView, expand, setStep, openPanel, closePanel, search, setPalette, setEpoch, fit, setCamera, readyAt: performance.now() };
})();
