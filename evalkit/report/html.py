"""Building blocks of the report pages: the self-contained page shell (styles and a small script
inlined, nothing fetched), escaped text, and sortable tables.

Every value that comes from a run (dataset names, prompts, answers) goes through ``esc`` or, for
the error-analysis view, into a JSON block that the script writes with ``textContent``.
"""
import base64
import html
import json

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI","Noto Sans","Noto Sans CJK SC",sans-serif;
 margin:0;color:#1d1d1f;background:#fafafa}
main{max-width:1100px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;
 padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}
.meta{color:#555;margin:0 0 12px}.note{color:#666;font-size:12px}
table{border-collapse:collapse;margin:6px 0 14px;background:#fff;font-variant-numeric:tabular-nums}
th,td{border:1px solid #e1e1e1;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f1f3f5;font-weight:600}td.num{text-align:right;white-space:nowrap}
table.sortable th{cursor:pointer;user-select:none}table.sortable th::after{content:" \\2195";color:#aaa}
table.sortable th[aria-sort=ascending]::after{content:" \\25B2";color:#333}
table.sortable th[aria-sort=descending]::after{content:" \\25BC";color:#333}
tr.group td{background:#f6f8ff;font-weight:600}tr.part td{color:#555;font-size:13px}
td.part{padding-left:22px}
.up{color:#137333}.down{color:#b3261e}.sig{font-weight:700}
.chart svg{max-width:100%;height:auto}figure{margin:10px 0}figcaption{color:#555;font-size:12px}
img.figure{max-width:100%;border:1px solid #eee}
pre{white-space:pre-wrap;word-break:break-word;background:#f6f6f6;padding:6px 8px;margin:4px 0;
 font:12px/1.4 ui-monospace,Menlo,Consolas,"Noto Sans Mono CJK SC",monospace}
.role{color:#6a3ea1;font-weight:600;font-size:12px}details summary{cursor:pointer;color:#0b57d0}
a{color:#0b57d0;text-decoration:none}a:hover{text-decoration:underline}
.badge{display:inline-block;border-radius:8px;padding:0 6px;font-size:12px;background:#eee}
"""

# Sortable tables everywhere; the error-analysis view where the page holds samples.
SCRIPT = r"""
(function(){
'use strict';
function key(cell){
  var raw = cell.getAttribute('data-sort');
  if (raw === null) raw = cell.textContent.trim();
  var num = parseFloat(raw);
  return (raw !== '' && !isNaN(num) && isFinite(raw)) ? {n: num} : {s: raw};
}
function compare(a, b){
  if ('n' in a && 'n' in b) return a.n - b.n;
  if ('n' in a) return -1;
  if ('n' in b) return 1;
  return a.s.localeCompare(b.s);
}
function sortTable(th){
  var table = th.closest('table'), body = table.tBodies[0];
  var col = Array.prototype.indexOf.call(th.parentNode.children, th);
  var ascending = th.getAttribute('aria-sort') !== 'ascending';
  var rows = Array.prototype.slice.call(body.rows);
  rows.sort(function(r1, r2){
    var c = compare(key(r1.cells[col]), key(r2.cells[col]));
    return ascending ? c : -c;
  });
  rows.forEach(function(r){ body.appendChild(r); });
  Array.prototype.forEach.call(th.parentNode.children, function(h){ h.removeAttribute('aria-sort'); });
  th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
}
document.querySelectorAll('table.sortable thead th').forEach(function(th){
  th.addEventListener('click', function(){ sortTable(th); });
});

var block = document.getElementById('samples');
if (!block) return;
var DATA = JSON.parse(block.textContent);
var main = document.getElementById('main'), view = document.getElementById('errors');
function el(tag, text, cls){
  var e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}
function row(cells, heading){
  var tr = el('tr');
  cells.forEach(function(c){ tr.appendChild(el(heading ? 'th' : 'td', c)); });
  return tr;
}
function promptBlock(sample){
  var d = el('details'), s = el('summary', 'prompt');
  d.appendChild(s);
  sample.p.forEach(function(turn){
    if (turn[0]) d.appendChild(el('div', turn[0], 'role'));
    d.appendChild(el('pre', turn[1].map(function(k){ return DATA.texts[k]; }).join('')));
  });
  if (sample.o && sample.o.length){
    var t = el('table');
    t.appendChild(row(['option', 'ending', 'NLL'], true));
    sample.o.forEach(function(o){ t.appendChild(row([o[0], o[1], o[2] === null ? '-' : String(o[2])])); });
    d.appendChild(t);
  }
  return d;
}
function showErrors(abbr){
  var entry = DATA.datasets[abbr];
  view.textContent = '';
  var back = el('a', '\u2190 back to the report'); back.href = '#';
  view.appendChild(back);
  view.appendChild(el('h1', abbr + ': the samples answered wrongly'));
  if (!entry){ view.appendChild(el('p', 'No per-sample results for this dataset.')); }
  DATA.models.forEach(function(model){
    var m = entry && entry[model];
    if (!m) return;
    var section = el('section'); section.className = 'model-errors'; section.setAttribute('data-model', model);
    section.appendChild(el('h2', model));
    if (m.marked === false){
      section.appendChild(el('p', 'Its evaluator does not mark samples right or wrong (' + m.total + ' samples).', 'note'));
      view.appendChild(section); return;
    }
    section.appendChild(el('p', m.wrong.length + ' of ' + m.total + ' wrong', 'count'));
    var t = el('table'); t.className = 'samples';
    var subsets = m.wrong.some(function(s){ return s.s; });
    var head = ['#', 'gold', 'answer (post-processed)', 'prediction (raw)'];
    t.appendChild(row(head.concat(subsets ? ['subset', 'prompt'] : ['prompt']), true));
    m.wrong.forEach(function(s){
      var tr = row([String(s.i), s.g, s.a, s.r].concat(subsets ? [s.s || ''] : []));
      tr.className = 'sample'; tr.setAttribute('data-index', s.i);
      var td = el('td'); td.appendChild(promptBlock(s)); tr.appendChild(td);
      t.appendChild(tr);
    });
    section.appendChild(t);
    view.appendChild(section);
  });
  main.hidden = true; view.hidden = false; window.scrollTo(0, 0);
}
function route(){
  var hash = decodeURIComponent(location.hash.slice(1));
  if (hash.indexOf('errors/') === 0){ showErrors(hash.slice(7)); }
  else { view.hidden = true; main.hidden = false; }
}
window.addEventListener('hashchange', route);
route();
})();
"""


def esc(value):
    return html.escape('' if value is None else str(value), quote=True)


def json_block(element_id, data):
    """Data for the page's script, safe inside <script> whatever the strings hold."""
    text = json.dumps(data, ensure_ascii=False, separators=(',', ':'))
    text = text.replace('<', '\\u003c').replace('>', '\\u003e').replace('&', '\\u0026')
    return f'<script type="application/json" id="{esc(element_id)}">{text}</script>'


def cell(value, sort=None, cls=None, raw=False):
    """A table cell; ``sort`` is the key the sorting script uses (a number, or text)."""
    attrs = ''
    if sort is not None:
        attrs += f' data-sort="{esc(sort)}"'
    if cls:
        attrs += f' class="{esc(cls)}"'
    return f'<td{attrs}>{value if raw else esc(value)}</td>'


def table(header, rows, sortable=True, cls='', row_classes=None):
    """``rows``: lists of cells made by ``cell`` (already markup); ``row_classes``: one per row."""
    classes = ' '.join(c for c in ('sortable' if sortable else '', cls) if c)
    head = ''.join(f'<th>{esc(h)}</th>' for h in header)
    body = []
    for i, cells in enumerate(rows):
        row_cls = row_classes[i] if row_classes else None
        body.append((f'<tr class="{esc(row_cls)}">' if row_cls else '<tr>') + ''.join(cells) + '</tr>')
    return f'<table class="{classes}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def score_cell(value):
    """A score ± its standard error, sorted by the score; '-' when there is none."""
    if value is None:
        return cell('-', sort='', cls='num')
    return cell(value.text(), sort=f'{value.value:.6f}', cls='num')


def figure(markup, caption=None):
    caption = f'<figcaption>{esc(caption)}</figcaption>' if caption else ''
    return f'<figure class="chart">{markup}{caption}</figure>'


def image_figure(path):
    kind = {'.png': 'image/png', '.jpg': 'image/jpeg', '.svg': 'image/svg+xml'}[path.suffix.lower()]
    data = base64.b64encode(path.read_bytes()).decode('ascii')
    return (f'<figure><img class="figure" alt="{esc(path.name)}" src="data:{kind};base64,{data}">'
            f'<figcaption>{esc(path.name)}</figcaption></figure>')


def page(title, body, extra=''):
    """A whole page: one file, nothing loaded from elsewhere."""
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{esc(title)}</title><style>{CSS}</style></head><body>'
            f'<main id="main">{body}</main><main id="errors" hidden></main>{extra}'
            f'<script>{SCRIPT}</script></body></html>\n')
