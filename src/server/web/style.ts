// The website's one stylesheet, served at /static/style.css (the CSP allows no
// inline style). Light and dark by prefers-color-scheme; one column on a phone.
export const STYLESHEET = `
:root{--bg:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--panel:#f6f8fa;--link:#0550ae;--focus:#0969da;
--v-bit:#1a7f37;--v-rep:#4c9a2a;--v-unrep:#cf222e;--v-ftbfs:#bc4c00;--v-error:#6e7781;--v-unknown:#8c959f;--v-queued:#0969da}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#8d96a0;--line:#30363d;--panel:#161b22;--link:#4493f8;--focus:#58a6ff;
--v-bit:#3fb950;--v-rep:#8ac26a;--v-unrep:#f85149;--v-ftbfs:#db6d28;--v-error:#8b949e;--v-unknown:#6e7681;--v-queued:#58a6ff}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif}
a{color:var(--link)}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,summary:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.skip{position:absolute;left:-9999px}.skip:focus{left:1rem;top:1rem;background:var(--bg);padding:.5rem;z-index:1}
header.site{border-bottom:1px solid var(--line);background:var(--panel)}
header.site nav{max-width:72rem;margin:0 auto;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:center}
header.site .brand{font-weight:700;margin-right:1rem;text-decoration:none;color:var(--fg)}
main{max-width:72rem;margin:0 auto;padding:1rem}
footer.site{max-width:72rem;margin:2rem auto;padding:1rem;color:var(--muted);font-size:.875rem;border-top:1px solid var(--line)}
h1{font-size:1.6rem;margin:.5rem 0 1rem;overflow-wrap:anywhere}h2{font-size:1.25rem;margin:1.5rem 0 .5rem}h3{font-size:1.05rem}
.muted{color:var(--muted)}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.9375rem}
th,td{border-bottom:1px solid var(--line);padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:var(--panel);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.875rem}
.name,.mono{overflow-wrap:anywhere;unicode-bidi:isolate}
pre{background:var(--panel);border:1px solid var(--line);padding:.75rem;overflow:auto;white-space:pre-wrap;overflow-wrap:anywhere;max-height:40rem}
.verdict{display:inline-block;padding:0 .4rem;border-radius:.25rem;color:#fff;font-size:.8125rem;font-weight:600;white-space:nowrap}
.v-BIT_IDENTICAL,.v-IDENTICAL_EXCEPT_SIGNATURE{background:var(--v-bit)}.v-REPRODUCIBLE{background:var(--v-rep)}.v-UNREPRODUCIBLE{background:var(--v-unrep)}
.v-FTBFS{background:var(--v-ftbfs)}.v-ERROR{background:var(--v-error)}.v-UNKNOWN{background:var(--v-unknown)}.v-queued{background:var(--v-queued)}
@media (prefers-color-scheme:dark){.verdict{color:#0d1117}}
.regression{border-left:4px solid var(--v-unrep);background:var(--panel);padding:.5rem .75rem;margin:1rem 0}
.notice{border-left:4px solid var(--line);background:var(--panel);padding:.5rem .75rem;margin:1rem 0}
form.filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:flex-end;margin:0 0 1rem;padding:.75rem;background:var(--panel);border:1px solid var(--line)}
form.filters label{display:flex;flex-direction:column;font-size:.875rem;gap:.15rem}
input,select,button{font:inherit;padding:.3rem .5rem;border:1px solid var(--line);border-radius:.25rem;background:var(--bg);color:var(--fg);min-height:2.25rem}
button{background:var(--link);color:#fff;border-color:var(--link);cursor:pointer}
@media (prefers-color-scheme:dark){button{color:#0d1117}}
nav.pages{display:flex;gap:1rem;margin:1rem 0;flex-wrap:wrap}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(20rem,1fr));gap:1rem}
.card{border:1px solid var(--line);border-radius:.5rem;padding:.75rem 1rem;background:var(--bg)}
.card h3{margin:.25rem 0 .5rem;overflow-wrap:anywhere}
svg.chart{width:100%;height:auto;display:block}
svg.chart.history{max-width:40rem}
svg.chart text{fill:var(--fg);font-size:12px;font-family:system-ui,sans-serif}
svg.chart .axis{stroke:var(--line)}
svg.chart .line{fill:none;stroke:var(--v-bit);stroke-width:2}
svg.chart .dot{fill:var(--v-bit)}
svg.chart .s-BIT_IDENTICAL,svg.chart .s-IDENTICAL_EXCEPT_SIGNATURE{fill:var(--v-bit)}svg.chart .s-REPRODUCIBLE{fill:var(--v-rep)}svg.chart .s-UNREPRODUCIBLE{fill:var(--v-unrep)}
svg.chart .s-FTBFS{fill:var(--v-ftbfs)}svg.chart .s-ERROR{fill:var(--v-error)}svg.chart .s-UNKNOWN{fill:var(--v-unknown)}svg.chart .s-queued{fill:var(--v-queued)}
ul.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.25rem .75rem;font-size:.8125rem;margin:.5rem 0}
ul.legend li::before{content:"";display:inline-block;width:.7rem;height:.7rem;margin-right:.3rem;vertical-align:-.05rem;border-radius:.15rem;background:var(--v-unknown)}
ul.legend li.l-BIT_IDENTICAL::before,ul.legend li.l-IDENTICAL_EXCEPT_SIGNATURE::before{background:var(--v-bit)}ul.legend li.l-REPRODUCIBLE::before{background:var(--v-rep)}ul.legend li.l-UNREPRODUCIBLE::before{background:var(--v-unrep)}
ul.legend li.l-FTBFS::before{background:var(--v-ftbfs)}ul.legend li.l-ERROR::before{background:var(--v-error)}ul.legend li.l-queued::before{background:var(--v-queued)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}
dl.facts dt{font-weight:600}dl.facts dd{margin:0;overflow-wrap:anywhere}
details{margin:.5rem 0}summary{cursor:pointer}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:40rem){body{font-size:15px}main{padding:.5rem}dl.facts{grid-template-columns:1fr}dl.facts dd{margin-bottom:.5rem}
th.wide-only,td.wide-only{display:none}}
`;
