// dsops web UI: plain JavaScript, no build step, no third-party code.
// Every page is one server-rendered shell; this script reads the URL, calls the JSON
// API and builds the DOM with textContent (never innerHTML), so data cannot inject markup.
"use strict";

const ROOT = document.body.dataset.root || "";
const SVGNS = "http://www.w3.org/2000/svg";
const PAGE_SIZE = 100;
const DIFF_PAGE_SIZE = 25;

// --- small helpers ------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVGNS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
}

function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

function url(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== "" && value !== null && value !== undefined) query.set(key, value);
  }
  const text = query.toString();
  return ROOT + path + (text ? "?" + text : "");
}

async function api(path, params) {
  const response = await fetch(url("/api" + path, params), { credentials: "same-origin" });
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (!response.ok) {
    const detail = body && body.detail ? body.detail : response.statusText;
    const error = new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
    error.status = response.status;
    error.body = body;
    throw error;
  }
  return body;
}

const versionUrl = (id) => ROOT + "/versions/" + encodeURIComponent(id);
const datasetUrl = (project, name) =>
  ROOT + "/datasets/" + project.split("/").map(encodeURIComponent).join("/") + "/" + encodeURIComponent(name);
const fileUrl = (id, path) => url("/api/versions/" + id + "/file", { path });
const zipUrl = (id, folder) => url("/api/versions/" + id + "/zip", { folder });
const metadataUrl = (id, name) => "/versions/" + id + "/metadata/" + encodeURIComponent(name);
const metadataRawUrl = (id, name) => url("/api" + metadataUrl(id, name) + "/raw");

function bytes(n) {
  if (n === null || n === undefined) return "";
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = Number(n);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return (unit === 0 ? value.toFixed(0) : value.toFixed(value < 10 ? 2 : 1)) + " " + units[unit];
}

function count(n) { return Number(n || 0).toLocaleString("en-US"); }

function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

function shortId(id) { return id ? id.slice(0, 8) : ""; }

function main() { return document.getElementById("main"); }

function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

function show(...children) { fill(main(), ...children); }

function failure(error) {
  return h("div", { class: "error", role: "alert" }, String(error.message || error));
}

function chip(text, cls) { return h("span", { class: "chip " + (cls || "") }, text); }

function publishedBadge(v) {
  return v.published ? h("span", { class: "chip published", title: "published " + when(v.published_at) }, "published") : null;
}

function changeCounts(changes) {
  const c = changes || {};
  return h("span", { class: "changes" },
    h("span", { class: "add", title: "added" }, "+" + count(c.added)),
    h("span", { class: "mod", title: "modified" }, "~" + count(c.modified)),
    h("span", { class: "del", title: "removed" }, "−" + count(c.removed)));
}

function provenanceCell(p) {
  if (!p || (!p.source && !p.links.length)) return h("span", { class: "muted" }, "—");
  const links = p.links.map((l) =>
    h("a", { href: l.url, target: "_blank", rel: "noopener noreferrer", class: "prov" }, l.label));
  return h("span", {}, p.source ? chip(p.source, "src-" + p.source) : null,
    p.summary ? h("span", { class: "small" }, p.summary, " ") : " ", links);
}

function section(title, ...children) {
  return h("section", { class: "card" }, h("h2", {}, title), children);
}

function setQuery(params) {
  const next = url(location.pathname.slice(ROOT.length), params);
  history.replaceState(null, "", next);
}

// --- charts and graph (inline SVG) ------------------------------------------------

function barChart(rows, label, value, format) {
  const width = 520, rowH = 22, left = 90, right = 80;
  const max = Math.max(1, ...rows.map((r) => r[value]));
  const chart = s("svg", { class: "chart", viewBox: `0 0 ${width} ${rows.length * rowH + 4}`,
    width, height: rows.length * rowH + 4, role: "img", "aria-label": "size by file type" });
  rows.forEach((r, i) => {
    const y = i * rowH + 2;
    const w = Math.max(1, ((width - left - right) * r[value]) / max);
    append(chart, [
      s("text", { x: left - 6, y: y + 15, "text-anchor": "end", class: "label" }, r[label]),
      s("rect", { x: left, y: y + 3, width: w, height: rowH - 7, rx: 3, class: "bar" },
        s("title", {}, `${r[label]}: ${format(r[value])} in ${count(r.files)} files`)),
      s("text", { x: left + w + 6, y: y + 15, class: "value" }, format(r[value])),
    ]);
  });
  return chart;
}

function lineChart(points, value, format, title) {
  const width = 420, height = 170, left = 64, right = 12, top = 22, bottom = 28;
  const chart = s("svg", { class: "chart line", viewBox: `0 0 ${width} ${height}`, width, height,
    role: "img", "aria-label": title });
  append(chart, s("text", { x: left, y: 14, class: "title" }, title));
  if (!points.length) return chart;
  const max = Math.max(1, ...points.map((p) => p[value]));
  const innerW = width - left - right, innerH = height - top - bottom;
  const x = (i) => left + (points.length === 1 ? innerW / 2 : (innerW * i) / (points.length - 1));
  const y = (v) => top + innerH - (innerH * v) / max;
  append(chart, [
    s("line", { x1: left, y1: top + innerH, x2: width - right, y2: top + innerH, class: "axis" }),
    s("line", { x1: left, y1: top, x2: left, y2: top + innerH, class: "axis" }),
    s("text", { x: left - 6, y: top + 4, "text-anchor": "end", class: "label" }, format(max)),
    s("text", { x: left - 6, y: top + innerH, "text-anchor": "end", class: "label" }, format(0)),
    s("text", { x: left, y: height - 8, class: "label" }, points[0].version),
    s("text", { x: width - right, y: height - 8, "text-anchor": "end", class: "label" },
      points[points.length - 1].version),
    s("polyline", { class: "series", points: points.map((p, i) => `${x(i)},${y(p[value])}`).join(" ") }),
  ]);
  points.forEach((p, i) => {
    append(chart, s("a", { href: versionUrl(p.id) },
      s("circle", { cx: x(i), cy: y(p[value]), r: 3.5, class: "dot" },
        s("title", {}, `${p.version}: ${format(p[value])}`))));
  });
  return chart;
}

function dag(graph) {
  const colW = 150, rowH = 56, nodeW = 118, nodeH = 34, pad = 16;
  const width = Math.max(1, graph.columns) * colW + pad;
  const height = Math.max(1, graph.rows) * rowH + pad;
  const pos = {};
  for (const n of graph.nodes) pos[n.id] = { x: pad + n.column * colW, y: pad + n.row * rowH };
  const chart = s("svg", { class: "dag", viewBox: `0 0 ${width} ${height}`, width, height,
    role: "img", "aria-label": "lineage graph" });
  append(chart, s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5,
    markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
  s("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }))));
  for (const e of graph.edges) {
    const a = pos[e.source], b = pos[e.target];
    if (!a || !b) continue;
    const x1 = a.x + nodeW, y1 = a.y + nodeH / 2, x2 = b.x - 2, y2 = b.y + nodeH / 2;
    const mid = (x1 + x2) / 2;
    append(chart, s("path", { class: "edge", d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`,
      "marker-end": "url(#arrow)", "data-source": e.source, "data-target": e.target }));
  }
  for (const n of graph.nodes) {
    const p = pos[n.id];
    const cls = ["node", n.merge ? "merge" : "", n.external ? "external" : "", n.current ? "current" : "",
      n.deleted ? "deleted" : ""].join(" ");
    const title = `${n.ref || n.id}\n${n.id}${n.merge ? "\nmerge of " + n.parents.length + " parents" : ""}` +
      (n.deleted ? "\ndeleted " + when(n.deleted_at) : "");
    // A deleted version keeps its label; its second line says it is gone, and since when.
    const second = n.deleted ? "deleted " + (n.deleted_at || "").slice(0, 10)
      : (n.merge ? "merge · " : "") + (n.external && n.dataset ? n.dataset.slice(-16) : shortId(n.id));
    append(chart, s("a", { href: versionUrl(n.id), class: cls, "data-id": n.id, "data-label": n.label },
      s("title", {}, title),
      s("rect", { x: p.x, y: p.y, width: nodeW, height: nodeH, rx: 8 }),
      s("text", { x: p.x + nodeW / 2, y: p.y + 15, "text-anchor": "middle", class: "semver" },
        n.label),
      s("text", { x: p.x + nodeW / 2, y: p.y + 28, "text-anchor": "middle", class: n.deleted ? "vid gone" : "vid" },
        second)));
  }
  const wrap = h("div", { class: "dag-wrap" }, chart);
  if (graph.truncated) append(wrap, h("p", { class: "muted" }, "Only the most recent versions are drawn."));
  return wrap;
}

// --- pages -------------------------------------------------------------------------

async function datasetsPage() {
  const params = new URLSearchParams(location.search);
  const q = h("input", { name: "q", value: params.get("q") || "", placeholder: "Search datasets by name", "aria-label": "Search by name" });
  const tag = h("input", { name: "tag", value: params.get("tag") || "", placeholder: "tag", "aria-label": "Tag" });
  const results = h("div", { id: "datasets" });
  const form = h("form", { class: "filters", role: "search", onsubmit: (ev) => { ev.preventDefault(); load(); } },
    q, tag, h("button", { type: "submit" }, "Search"));
  show(h("h1", {}, "Datasets"), form, results);

  async function load() {
    setQuery({ q: q.value.trim(), tag: tag.value.trim() });
    fill(results, h("p", { class: "muted" }, "Loading…"));
    try {
      const rows = await api("/datasets", { q: q.value.trim(), tag: tag.value.trim() });
      fill(results, datasetsTable(rows, (t) => { tag.value = t; load(); }));
    } catch (error) { fill(results, failure(error)); }
  }
  let timer = null;
  q.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(load, 250); });
  await load();
}

function datasetsTable(rows, onTag) {
  if (!rows.length) return h("p", { class: "empty" }, "No datasets match.");
  const projects = new Map();
  for (const r of rows) {
    if (!projects.has(r.project)) projects.set(r.project, []);
    projects.get(r.project).push(r);
  }
  const blocks = [];
  for (const [project, items] of projects) {
    blocks.push(h("section", { class: "card project" },
      h("h2", {}, h("span", { class: "muted" }, "project "), project,
        h("span", { class: "muted small" }, ` · ${items.length} dataset${items.length === 1 ? "" : "s"}`)),
      h("table", { class: "grid" },
        h("thead", {}, h("tr", {}, ["Dataset", "Versions", "Latest", "Size", "Files", "Aliases", "Tags", "Updated"].map((t) => h("th", {}, t)))),
        h("tbody", {}, items.map((r) => h("tr", {},
          h("td", {}, h("a", { href: datasetUrl(r.project, r.name), class: "strong" }, r.name),
            r.description ? h("div", { class: "muted small" }, r.description) : null),
          h("td", { class: "num" }, count(r.version_count)),
          h("td", {}, h("a", { href: versionUrl(r.latest.id) }, r.latest.version)),
          h("td", { class: "num" }, bytes(r.size)),
          h("td", { class: "num" }, count(r.file_count)),
          h("td", {}, Object.keys(r.aliases).map((a) => chip(a, "alias"))),
          h("td", {}, r.tags.map((t) => h("button", { class: "chip tag", type: "button", onclick: () => onTag(t) }, t))),
          h("td", { class: "nowrap" }, when(r.updated))))))));
  }
  return blocks;
}

async function datasetPage(project, name) {
  show(h("p", { class: "muted" }, "Loading…"));
  let d;
  try { d = await api(`/datasets/${project.split("/").map(encodeURIComponent).join("/")}/${encodeURIComponent(name)}`); }
  catch (error) { show(h("h1", {}, `${project}/${name}`), failure(error)); return; }
  document.title = `${project}/${name} · dsops`;
  const aliasById = {};
  for (const [alias, id] of Object.entries(d.aliases)) (aliasById[id] = aliasById[id] || []).push(alias);
  const versions = [...d.versions].reverse();
  show(
    h("nav", { class: "crumbs" }, h("a", { href: ROOT + "/" }, "Datasets"), " / ", project, " / ", h("strong", {}, name)),
    h("h1", {}, `${project}/${name}`),
    h("div", { class: "aliases" }, Object.entries(d.aliases).map(([a, id]) =>
      h("a", { href: versionUrl(id), class: "chip alias" }, `${a} → ${(d.versions.find((v) => v.id === id) || {}).version || shortId(id)}`))),
    section("Lineage", dag(d.graph)),
    section("Growth", h("div", { class: "charts" },
      lineChart(d.growth, "size", bytes, "Total size"),
      lineChart(d.growth, "file_count", count, "Files"))),
    section(`Versions (${d.versions.length})`, h("table", { class: "grid", id: "versions" },
      h("thead", {}, h("tr", {}, ["Version", "Id", "Created", "Provenance", "Files", "Size", "Changes", "Aliases"].map((t) => h("th", {}, t)))),
      h("tbody", {}, versions.map((v) => h("tr", {},
        h("td", {}, h("a", { href: versionUrl(v.id), class: "strong" }, v.version),
          v.parents.length > 1 ? chip("merge", "merge") : null, publishedBadge(v)),
        h("td", { class: "mono" }, h("a", { href: versionUrl(v.id), title: v.id }, shortId(v.id))),
        h("td", { class: "nowrap" }, when(v.created_at)),
        h("td", {}, provenanceCell(v.produced_by)),
        h("td", { class: "num" }, count(v.file_count)),
        h("td", { class: "num" }, bytes(v.total_size)),
        h("td", {}, changeCounts(v.changes)),
        h("td", {}, (aliasById[v.id] || []).map((a) => chip(a, "alias")))))))));
}

async function versionPage(id) {
  show(h("p", { class: "muted" }, "Loading…"));
  let v;
  try { v = await api(`/versions/${encodeURIComponent(id)}`); }
  catch (error) {
    if (error.status === 410 && error.body) { deletedPage(error.body, error); return; }
    show(h("h1", {}, "Version"), failure(error)); return;
  }
  document.title = `${v.ref} · dsops`;
  const stats = h("div", { id: "stats" }, h("p", { class: "muted" }, "Loading…"));
  const lineage = h("div", { id: "lineage" }, h("p", { class: "muted" }, "Loading…"));
  const files = h("div", { id: "files" });
  const diff = h("div", { id: "diff" });
  const metadata = h("div", { id: "metadata" });
  const summary = h("dl", { class: "summary" },
    row("Id", h("code", {}, v.id)),
    row("Version", v.version),
    row("Dataset", h("a", { href: datasetUrl(v.project, v.name) }, `${v.project}/${v.name}`)),
    row("Parents", v.parent_refs.length ? v.parent_refs.map((p) =>
      h("a", { href: versionUrl(p.id), class: "parent" + (p.deleted ? " deleted" : ""), title: p.id + (p.deleted ? " (deleted " + when(p.deleted_at) + ")" : "") },
        p.ref || shortId(p.id), p.deleted ? " (deleted)" : "")) : h("span", { class: "muted" }, "none (a root version)")),
    row("Children", v.children.length ? v.children.map((c) => h("a", { href: versionUrl(c.id) }, c.version)) : h("span", { class: "muted" }, "none")),
    row("Aliases", v.aliases.length ? v.aliases.map((a) => chip(a, "alias")) : h("span", { class: "muted" }, "none")),
    row("Description", v.description || h("span", { class: "muted" }, "—")),
    row("Tags", v.tags.length ? v.tags.map((t) => chip(t, "tag")) : h("span", { class: "muted" }, "—")),
    row("Published", v.published ? [publishedBadge(v), " since ", when(v.published_at)]
      : h("span", { class: "muted" }, "no (delete and prune may remove it)")),
    row("Created", when(v.created_at)),
    row("Finalized", when(v.finalized_at)),
    row("Provenance", provenanceCell(v.produced_by),
      Object.keys(v.produced_by.fields).length ? h("details", {}, h("summary", {}, "recorded fields"),
        h("pre", {}, JSON.stringify(v.produced_by.fields, null, 2))) : null),
    row("Files", `${count(v.file_count)} files, ${bytes(v.total_size)}`),
    row("Changes", changeCounts(v.changes), ` · ${bytes(v.changes.added_bytes || 0)} added, ${bytes(v.changes.stored_bytes || 0)} newly stored`),
    row("Download", h("a", { href: zipUrl(v.id, ""), class: "button", id: "zip-all", download: "" }, "Whole version (.zip)")));
  show(
    h("nav", { class: "crumbs" }, h("a", { href: ROOT + "/" }, "Datasets"), " / ",
      h("a", { href: datasetUrl(v.project, v.name) }, `${v.project}/${v.name}`), " / ", h("strong", {}, v.version)),
    h("h1", {}, v.ref, " ", publishedBadge(v)),
    h("div", { class: "columns" }, section("Summary", summary), section("Size by file type", stats)),
    section("Lineage", lineage),
    v.metadata.length ? section(`Metadata (${v.metadata.length})`, metadata) : null,
    section("Contents", files),
    section("Diff", diff));
  api(`/versions/${id}/stats`).then((st) => fill(stats, 
    st.by_type.length ? barChart(st.by_type, "type", "size", bytes) : h("p", { class: "muted" }, "No files."),
  )).catch((e) => fill(stats, failure(e)));
  api(`/versions/${id}/graph`).then((g) => fill(lineage, dag(g)))
    .catch((e) => fill(lineage, failure(e)));
  contents(v, files);
  diffView(v, diff);
  if (v.metadata.length) metadataView(v, metadata);
}

// A deleted version: what it was and when it went (the API answered 410 Gone).
function deletedPage(gone, error) {
  const ref = gone.ref || gone.id || "Version";
  document.title = `${ref} (deleted) · dsops`;
  const dataset = gone.ref ? gone.ref.split("@")[0] : "";
  const slash = dataset.lastIndexOf("/");
  show(
    h("nav", { class: "crumbs" }, h("a", { href: ROOT + "/" }, "Datasets"),
      dataset ? [" / ", h("a", { href: datasetUrl(dataset.slice(0, slash), dataset.slice(slash + 1)) }, dataset)] : null),
    h("h1", {}, ref, " ", chip("deleted", "deleted")),
    h("div", { class: "error gone", role: "alert", id: "deleted-notice" }, String(error.message)),
    h("dl", { class: "summary" }, row("Id", h("code", {}, gone.id || "")), row("Deleted", when(gone.deleted_at))));
}

// Named metadata: a list; one value at a time below it (a table, JSON, or a download).
function metadataView(v, root) {
  const list = h("div", { class: "table-wrap" });
  const shown = h("div", { id: "metadata-value" });
  fill(root, list, shown);
  api(`/versions/${v.id}/metadata`).then((items) => {
    fill(list, h("table", { class: "grid", id: "metadata-list" },
      h("thead", {}, h("tr", {}, ["Name", "Kind", "Size", "Set", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, items.map((m) => h("tr", { "data-name": m.name },
        h("td", { class: "mono" }, m.name),
        h("td", {}, m.kind === "parquet" ? "table" : m.kind),
        h("td", { class: "num" }, bytes(m.size)),
        h("td", { class: "nowrap" }, when(m.set_at)),
        h("td", {},
          m.kind === "bytes" ? null : h("button", { type: "button", class: "small", onclick: () => showMetadata(v, m.name, shown) }, "show"),
          " ", h("a", { href: metadataRawUrl(v.id, m.name), class: "button small", download: "" }, "download")))))));
    const first = items.find((m) => m.kind === "parquet") || items.find((m) => m.kind === "json");
    if (first) showMetadata(v, first.name, shown);
  }).catch((e) => fill(list, failure(e)));
}

async function showMetadata(v, name, root) {
  fill(root, h("p", { class: "muted" }, "Loading…"));
  let m;
  try { m = await api(metadataUrl(v.id, name)); } catch (error) { fill(root, failure(error)); return; }
  const title = h("h3", {}, h("code", {}, m.name));
  const download = h("a", { href: metadataRawUrl(v.id, m.name), class: "button small", download: "" },
    "Download (" + bytes(m.size) + ")");
  if (m.kind === "parquet") {
    append(title, h("span", { class: "muted small" }, ` · ${count(m.rows.length)} of ${count(m.total_rows)} rows, ${m.total_columns} columns`));
    fill(root, title, h("div", { class: "table-wrap" }, h("table", { class: "grid preview", id: "metadata-table", "data-name": m.name },
      h("thead", {}, h("tr", {}, m.columns.map((c) => h("th", { title: c.type }, c.name)))),
      h("tbody", {}, m.rows.map((r) => h("tr", {}, r.map((cell) => h("td", {}, cell === null ? "" : String(cell)))))))), download);
  } else if (m.kind === "json") {
    fill(root, title, m.truncated ? h("p", { class: "muted" }, "Too large to show here: download it.")
      : h("pre", { id: "metadata-json", "data-name": m.name }, JSON.stringify(m.value, null, 2)), download);
  } else {
    fill(root, title, h("p", { class: "muted" }, "Bytes: not shown."), download);
  }
}

function row(label, ...value) { return [h("dt", {}, label), h("dd", {}, value)]; }

function contents(v, root) {
  const params = new URLSearchParams(location.search);
  const state = {
    q: params.get("q") || "", folder: params.get("folder") || "",
    sort: params.get("sort") || "path", order: params.get("order") || "asc",
    offset: Number(params.get("offset") || 0),
  };
  const search = h("input", { type: "search", id: "file-search", placeholder: "Search paths", value: state.q, "aria-label": "Search paths" });
  const crumbs = h("div", { class: "folder" });
  const table = h("div", { class: "table-wrap" });
  const pager = h("div", { class: "pager" });
  const preview = h("div", { id: "preview" });
  fill(root, h("div", { class: "filters" }, search, crumbs), table, pager, preview);
  let timer = null;
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => { state.q = search.value; state.offset = 0; load(); }, 250); });

  function goFolder(folder) { state.folder = folder; state.offset = 0; load(); }

  function sortBy(column) {
    if (state.sort === column) state.order = state.order === "asc" ? "desc" : "asc";
    else { state.sort = column; state.order = column === "size" ? "desc" : "asc"; }
    state.offset = 0;
    load();
  }

  function header(label, column) {
    if (!column) return h("th", {}, label);
    const arrow = state.sort === column ? (state.order === "asc" ? " ▲" : " ▼") : "";
    return h("th", {}, h("button", { type: "button", class: "sort", "data-sort": column, onclick: () => sortBy(column) }, label + arrow));
  }

  function pathCell(path, source) {
    const parts = path.split("/");
    const name = parts.pop();
    const links = parts.map((part, i) => [h("a", { href: "#", class: "dir", onclick: (ev) => { ev.preventDefault(); goFolder(parts.slice(0, i + 1).join("/")); } }, part), "/"]);
    // An external file: marked, with its source URL as plain text (never as HTML or a link).
    const external = source ? h("div", { class: "external", title: source }, h("span", { class: "badge link" }, "link"), " ", h("span", { class: "source" }, source)) : null;
    return h("td", { class: "path" }, links, h("a", { href: fileUrl(v.id, path), class: "file", download: "" }, name), external);
  }

  async function load() {
    setQuery({ q: state.q, folder: state.folder, sort: state.sort === "path" ? "" : state.sort,
      order: state.order === "asc" ? "" : state.order, offset: state.offset || "" });
    const folderParts = state.folder ? state.folder.split("/") : [];
    fill(crumbs, 
      h("a", { href: "#", onclick: (ev) => { ev.preventDefault(); goFolder(""); } }, "root"),
      folderParts.map((part, i) => [" / ", h("a", { href: "#", onclick: (ev) => { ev.preventDefault(); goFolder(folderParts.slice(0, i + 1).join("/")); } }, part)]),
      state.folder ? h("a", { href: zipUrl(v.id, state.folder), class: "button small", id: "zip-folder", download: "" }, "Download folder (.zip)") : null);
    let page;
    try {
      page = await api(`/versions/${v.id}/files`, { q: state.q, folder: state.folder, sort: state.sort, order: state.order, offset: state.offset, limit: PAGE_SIZE });
    } catch (error) { fill(table, failure(error)); return; }
    fill(table, h("table", { class: "grid files", id: "contents" },
      h("thead", {}, h("tr", {}, header("Path", "path"), header("Size", "size"), header("Origin version"), header("Preview"))),
      h("tbody", {}, page.rows.length ? page.rows.map((r) => h("tr", {},
        pathCell(r.path, r.link),
        h("td", { class: "num nowrap" }, bytes(r.size)),
        h("td", {}, h("a", { href: versionUrl(r.origin), title: r.origin, class: r.origin === v.id ? "here" : "" }, r.origin_ref ? r.origin_ref.split("@")[1] : shortId(r.origin))),
        h("td", {}, r.preview ? h("button", { type: "button", class: "small", onclick: () => showPreview(v, r, preview) }, r.preview === "image" ? "thumbnail" : "rows") : null)))
        : h("tr", {}, h("td", { colspan: 4, class: "empty" }, "No files match.")))));
    const last = Math.min(page.total, state.offset + page.rows.length);
    fill(pager, 
      h("button", { type: "button", disabled: state.offset <= 0, onclick: () => { state.offset = Math.max(0, state.offset - PAGE_SIZE); load(); } }, "‹ Previous"),
      h("span", { class: "muted", id: "page-info" }, page.total ? `${count(state.offset + 1)}–${count(last)} of ${count(page.total)}` : "0 files"),
      h("button", { type: "button", disabled: last >= page.total, onclick: () => { state.offset += PAGE_SIZE; load(); } }, "Next ›"));
  }
  load();
}

async function showPreview(v, file, root) {
  fill(root, h("h3", {}, "Preview: ", h("code", {}, file.path)), h("p", { class: "muted" }, "Loading…"));
  if (file.preview === "image") {
    const img = h("img", { class: "thumb", alt: file.path, src: url(`/api/versions/${v.id}/thumbnail`, { path: file.path }) });
    img.addEventListener("error", () => fill(root, failure(new Error("Cannot show this image."))));
    fill(root, h("h3", {}, "Thumbnail: ", h("code", {}, file.path)), img);
    return;
  }
  try {
    const p = await api(`/versions/${v.id}/preview`, { path: file.path });
    const more = p.total_rows === null ? "first rows" : `${p.rows.length} of ${count(p.total_rows)} rows`;
    fill(root, h("h3", {}, "Preview: ", h("code", {}, file.path), h("span", { class: "muted small" }, ` · ${more}, ${p.total_columns} columns`)),
      h("div", { class: "table-wrap" }, h("table", { class: "grid preview" },
        h("thead", {}, h("tr", {}, p.columns.map((c) => h("th", { title: c.type }, c.name)))),
        h("tbody", {}, p.rows.map((r) => h("tr", {}, r.map((cell) => h("td", {}, cell === null ? "" : String(cell)))))))));
  } catch (error) { fill(root, failure(error)); }
}

function diffView(v, root) {
  const against = h("select", { id: "diff-against", "aria-label": "Compare with" },
    h("option", { value: "" }, v.parent_refs.length ? "its parents" : "nothing (root version)"));
  const other = h("input", { placeholder: "or another version: id or project/name@x.y.z", id: "diff-other", "aria-label": "Other version" });
  const out = h("div", {});
  const state = { kind: "added", offset: 0 };
  fill(root, h("form", { class: "filters", onsubmit: (ev) => { ev.preventDefault(); state.offset = 0; load(); } },
    "Compare with ", against, other, h("button", { type: "submit" }, "Compare")), out);
  against.addEventListener("change", () => { other.value = ""; state.offset = 0; load(); });
  // A deleted parent's manifest is not kept for diffs: compare with another version instead.
  const deletedParent = v.parent_refs.find((p) => p.deleted);
  api("/datasets/" + v.project.split("/").map(encodeURIComponent).join("/") + "/" + encodeURIComponent(v.name)).then((d) => {
    for (const o of [...d.versions].reverse()) {
      if (o.id !== v.id) append(against, h("option", { value: o.id }, `${o.version} (${shortId(o.id)})`));
    }
  }).catch(() => {});

  async function load() {
    fill(out, h("p", { class: "muted" }, "Comparing…"));
    let d;
    try {
      d = await api(`/versions/${v.id}/diff`, { against: other.value.trim() || against.value, kind: state.kind, offset: state.offset, limit: DIFF_PAGE_SIZE });
    } catch (error) { fill(out, failure(error)); return; }
    const c = d.counts;
    const tabs = ["added", "modified", "removed"].map((k) => h("button", { type: "button", class: "tab" + (k === state.kind ? " active" : ""), "data-kind": k,
      onclick: () => { state.kind = k; state.offset = 0; load(); } }, `${k} ${count(c[k])} (${bytes(c[k + "_bytes"])})`));
    const base = d.base.length ? d.base.map((b, i) => [i ? " and " : "", h("a", { href: versionUrl(b.id) }, b.ref || shortId(b.id))]) : ["an empty version"];
    fill(out, h("p", {}, "From ", base, " to this version:"), h("div", { class: "tabs" }, tabs),
      h("table", { class: "grid", id: "diff-rows" },
        h("thead", {}, h("tr", {}, h("th", {}, "Path"), h("th", {}, "Size"), state.kind === "modified" ? h("th", {}, "Old size") : null)),
        h("tbody", {}, d.rows.length ? d.rows.map((r) => h("tr", {}, h("td", { class: "path" }, r.path), h("td", { class: "num" }, bytes(r.size)),
          state.kind === "modified" ? h("td", { class: "num" }, bytes(r.old_size)) : null))
          : h("tr", {}, h("td", { colspan: 3, class: "empty" }, "Nothing " + state.kind + ".")))),
      d.total > DIFF_PAGE_SIZE ? h("div", { class: "pager" },
        h("button", { type: "button", disabled: state.offset <= 0, onclick: () => { state.offset -= DIFF_PAGE_SIZE; load(); } }, "‹ Previous"),
        h("span", { class: "muted" }, `${count(state.offset + 1)}–${count(Math.min(d.total, state.offset + DIFF_PAGE_SIZE))} of ${count(d.total)}`),
        h("button", { type: "button", disabled: state.offset + DIFF_PAGE_SIZE >= d.total, onclick: () => { state.offset += DIFF_PAGE_SIZE; load(); } }, "Next ›")) : null);
  }
  if (deletedParent && !against.value) {
    fill(out, h("p", { class: "muted", id: "diff-parent-deleted" }, "Its parent ", deletedParent.ref || shortId(deletedParent.id),
      " was deleted, so the changes from its parents cannot be listed any more; choose another version to compare with."));
  } else load();
}

// --- routing -------------------------------------------------------------------------

async function route() {
  const path = decodeURIComponent(location.pathname.slice(ROOT.length)) || "/";
  const version = path.match(/^\/versions\/([^/]+)\/?$/);
  const dataset = path.match(/^\/datasets\/(.+)\/([^/]+)\/?$/);
  if (version) return versionPage(version[1]);
  if (dataset) return datasetPage(dataset[1], dataset[2]);
  return datasetsPage();
}

function init() {
  const jump = document.getElementById("jump");
  jump.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const ref = jump.elements.ref.value.trim();
    if (!ref) return;
    try { location.href = versionUrl((await api("/resolve", { ref })).id); }
    catch (error) { show(h("h1", {}, "Not found"), failure(error)); }
  });
  api("/info").then((i) => { document.getElementById("store").textContent = i.store; }).catch(() => {});
  route().catch((error) => show(failure(error)));
}

init();
