"""The inline stylesheet and script of the HTML report (no network, nothing fetched).

The script only reads ``data-*`` attributes and toggles classes: it never builds markup
from report data, so nothing from a DAG file can become markup or script through it.
"""

from __future__ import annotations

__all__ = ["CSS", "JS"]

CSS = """
:root{--ok:#15803d;--okb:#dcfce7;--rv:#b45309;--rvb:#fef3c7;--bad:#b91c1c;--badb:#fee2e2;--fold:#64748b;--foldb:#f1f5f9;
--line:#cbd5e1;--ink:#0f172a;--mute:#475569;--hl:#2563eb}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);margin:0 auto;padding:16px 24px;max-width:1500px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:16px 0 6px}h4{font-size:14px;margin:0 0 6px}
.mute{color:var(--mute)}code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
table{border-collapse:collapse;margin:6px 0}th,td{border-bottom:1px solid #e2e8f0;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f8fafc}td.n,th.n{text-align:right}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0}.card{border:1px solid var(--line);border-radius:8px;padding:8px 12px;min-width:120px}
.card b{display:block;font-size:20px}
.bar{display:flex;height:12px;border-radius:6px;overflow:hidden;width:100%;max-width:600px;margin:4px 0}
.bar span{display:block}.f-converted{background:var(--ok)}.f-folded{background:var(--fold)}.f-review{background:#f59e0b}.f-unsupported{background:var(--bad)}
.v{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;white-space:nowrap}
.v-ready{background:var(--okb);color:var(--ok)}.v-needs-review{background:var(--rvb);color:var(--rv)}.v-blocked{background:var(--badb);color:var(--bad)}
.t-converted{background:var(--okb);color:var(--ok)}.t-folded{background:var(--foldb);color:var(--fold)}
.t-review{background:var(--rvb);color:var(--rv)}.t-unsupported{background:var(--badb);color:var(--bad)}
.sev-error{color:var(--bad);font-weight:600}.sev-warning{color:var(--rv);font-weight:600}.sev-info{color:var(--mute)}
#daglist th[data-sort]{cursor:pointer;user-select:none}#daglist th[data-sort]::after{content:" \\2195";color:#94a3b8}
.filters{display:flex;gap:8px;align-items:center;margin:6px 0}.filters input{padding:4px 8px;min-width:260px}
details.dag{border:1px solid var(--line);border-radius:8px;margin:8px 0;padding:0 12px}
details.dag>summary{cursor:pointer;padding:8px 0;font-weight:600}details.dag[open]>summary{border-bottom:1px solid #e2e8f0;margin-bottom:8px}
.sbs{display:grid;grid-template-columns:1fr 1fr;gap:12px}.sbs>figure,.sbs>div{margin:0;min-width:0}
figure figcaption{font-weight:600;margin-bottom:4px}
.gbox{overflow:auto;border:1px solid #e2e8f0;border-radius:6px;background:#fcfcfd;max-height:560px}
svg.graph{display:block;max-width:100%;height:auto}svg.graph.wide{max-width:none}svg.defs{position:absolute}
svg .node rect{stroke-width:1.5}svg .node{cursor:pointer}svg .node:focus{outline:none}svg text{font:11px system-ui,sans-serif;fill:var(--ink)}
svg text.sub{font-size:9px;fill:var(--mute)}
svg .fate-converted rect{fill:var(--okb);stroke:var(--ok)}svg .fate-review rect{fill:var(--rvb);stroke:#d97706}
svg .fate-unsupported rect{fill:var(--badb);stroke:var(--bad)}svg .fate-folded rect{fill:var(--foldb);stroke:var(--fold)}
svg .ghost rect{fill:none;stroke:#94a3b8;stroke-dasharray:4 3}svg .ghost text{fill:#94a3b8}
svg .stack{fill:#fff!important;stroke:#94a3b8!important}svg .diamond{fill:#7c3aed}
svg .group rect{fill:#f1f5f9;stroke:#94a3b8;stroke-dasharray:5 3}svg .group text{font-size:10px;fill:var(--mute);font-weight:600}
svg .flow rect{fill:none;stroke:#7c3aed}svg .flow text{fill:#7c3aed}
svg .edge{fill:none;stroke:#64748b;stroke-width:1.3;marker-end:url(#arrow)}svg .branch-edge{stroke-dasharray:5 3;stroke:#7c3aed}
svg .node.hl rect{stroke:var(--hl);stroke-width:3.5}.task.hl{outline:3px solid var(--hl);outline-offset:2px}
.legend{display:flex;gap:14px;flex-wrap:wrap;font-size:12px;margin:4px 0}.legend i{display:inline-block;width:12px;height:12px;border-radius:3px;margin-right:4px;vertical-align:-2px}
.task{border-top:1px solid #e2e8f0;padding:10px 0}.task h4 .op{font-weight:400;color:var(--mute)}
div.code{display:grid;grid-template-columns:auto 1fr;background:#f8fafc;border:1px solid #e2e8f0;border-radius:6px;overflow:auto;max-height:360px}
div.code pre{margin:0;padding:6px 8px;white-space:pre}div.code pre.ln{color:#94a3b8;text-align:right;user-select:none;border-right:1px solid #e2e8f0}
div.code .gap{color:#94a3b8}.nosrc{color:var(--mute);font-style:italic}
ul.findings{margin:6px 0;padding-left:18px}ul.findings li{margin:2px 0}.sugg{color:var(--mute)}
ul.check{list-style:none;padding-left:0}ul.check li{margin:3px 0}ul.check pre.call{margin:2px 0 0 22px;white-space:pre-wrap;overflow-wrap:anywhere}
.tools button{font:inherit;padding:2px 10px;margin-right:6px}
@media (max-width:900px){.sbs{grid-template-columns:1fr}}
@media print{body{max-width:none;padding:0;font-size:11px}.filters,.tools,#daglist th[data-sort]::after{display:none}
details.dag{break-inside:auto;border:none;padding:0}details.dag>summary{font-size:14px}.gbox,div.code{max-height:none;overflow:visible}
div.code pre{font-size:8.5px}.task{break-inside:avoid}h2{break-after:avoid}a{color:inherit;text-decoration:none}}
"""

JS = """
(function(){
"use strict";
var table=document.getElementById("daglist");
function cell(row,i){var c=row.cells[i];return c.hasAttribute("data-v")?c.getAttribute("data-v"):c.textContent;}
if(table){
  var body=table.tBodies[0];
  table.querySelectorAll("th[data-sort]").forEach(function(th){
    th.addEventListener("click",function(){
      var i=th.cellIndex,num=th.getAttribute("data-sort")==="n",dir=th.getAttribute("aria-sort")==="ascending"?-1:1;
      table.querySelectorAll("th").forEach(function(o){o.removeAttribute("aria-sort");});
      th.setAttribute("aria-sort",dir===1?"ascending":"descending");
      var rows=Array.prototype.slice.call(body.rows);
      rows.sort(function(a,b){var x=cell(a,i),y=cell(b,i);
        return dir*(num?(parseFloat(x)-parseFloat(y)):x.localeCompare(y));});
      rows.forEach(function(r){body.appendChild(r);});
    });
  });
  var text=document.getElementById("filter"),verdict=document.getElementById("verdict"),shown=document.getElementById("shown");
  function apply(){
    var q=text.value.toLowerCase(),v=verdict.value,n=0;
    Array.prototype.forEach.call(body.rows,function(r){
      var ok=(!q||r.getAttribute("data-q").indexOf(q)>=0)&&(!v||r.getAttribute("data-verdict")===v);
      r.hidden=!ok;if(ok){n++;}
    });
    shown.textContent=n+" shown";
  }
  text.addEventListener("input",apply);verdict.addEventListener("change",apply);
}
function keysOf(el){return (el.getAttribute("data-ks")||"").split(" ");}
function select(node){
  var dag=node.closest("details.dag");if(!dag){return;}
  var wanted=keysOf(node);
  dag.querySelectorAll(".hl").forEach(function(e){e.classList.remove("hl");});
  dag.querySelectorAll("[data-ks]").forEach(function(e){
    if(keysOf(e).some(function(k){return wanted.indexOf(k)>=0;})){e.classList.add("hl");}
  });
}
document.addEventListener("click",function(ev){
  var node=ev.target.closest&&ev.target.closest("svg .node");
  if(node){select(node);}
});
document.addEventListener("keydown",function(ev){
  if(ev.key==="Enter"&&ev.target.closest&&ev.target.closest("svg .node")){select(ev.target.closest("svg .node"));}
});
function openHash(){
  var id=decodeURIComponent(location.hash.slice(1));var el=id&&document.getElementById(id);
  if(el){var d=el.closest("details");if(d){d.open=true;}el.scrollIntoView();}
}
window.addEventListener("hashchange",openHash);openHash();
var opened=[];
window.addEventListener("beforeprint",function(){
  document.querySelectorAll("details.dag:not([open])").forEach(function(d){d.open=true;opened.push(d);});
});
window.addEventListener("afterprint",function(){opened.forEach(function(d){d.open=false;});opened=[];});
document.querySelectorAll("[data-all]").forEach(function(b){
  b.addEventListener("click",function(){var open=b.getAttribute("data-all")==="open";
    document.querySelectorAll("details.dag").forEach(function(d){d.open=open;});});
});
})();
"""
