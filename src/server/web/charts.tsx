// The overview's charts as SVG written on the server: a stacked bar of verdict
// shares per suite and architecture, and a line of the reproducible share per
// day. Each has a title and a description and its numbers beside it in a table,
// so it reads without JavaScript and without sight.
import type { FC } from 'hono/jsx';
import type { OverviewResponse } from '../../api/schemas.js';
import { VERDICT_TEXT, share } from './layout.js';

const SEGMENTS = ['BIT_IDENTICAL', 'IDENTICAL_EXCEPT_SIGNATURE', 'REPRODUCIBLE', 'UNREPRODUCIBLE', 'FTBFS', 'ERROR', 'UNKNOWN'] as const;

/** One horizontal bar, 100 % wide, cut into each verdict's share. */
export const ShareBar: FC<{ group: OverviewResponse['groups'][number]; id: string }> = ({ group, id }) => {
  const total = group.packages;
  const width = 600;
  let x = 0;
  const parts = SEGMENTS.map((k) => {
    const n = group.verdicts[k];
    const w = total === 0 ? 0 : (n / total) * width;
    const part = { k, n, x, w };
    x += w;
    return part;
  }).filter((p) => p.n > 0);
  const desc = SEGMENTS.filter((k) => group.verdicts[k] > 0)
    .map((k) => `${VERDICT_TEXT[k]} ${group.verdicts[k]} (${share(group.verdicts[k], total)})`)
    .join(', ');
  return (
    <svg class="chart" viewBox={`0 0 ${width} 28`} role="img" aria-labelledby={`${id}-t ${id}-d`}>
      <title id={`${id}-t`}>{`Verdicts of ${group.distribution} ${group.suite} ${group.architecture}`}</title>
      <desc id={`${id}-d`}>{desc || 'no packages'}</desc>
      <rect class="axis" x="0" y="2" width={width} height="24" fill="none" />
      {parts.map((p) => (
        <rect class={`s-${p.k}`} x={p.x.toFixed(2)} y="2" width={Math.max(p.w, 0.5).toFixed(2)} height="24">
          <title>{`${VERDICT_TEXT[p.k]}: ${p.n} (${share(p.n, total)})`}</title>
        </rect>
      ))}
    </svg>
  );
};

/** The reproducible share of each day's final results, a line over the last days with results. */
export const HistoryChart: FC<{ days: OverviewResponse['history']; id: string; label: string }> = ({ days, id, label }) => {
  const width = 640;
  const height = 200;
  const left = 40;
  const bottom = 24;
  const top = 10;
  const right = 10;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  if (days.length === 0) return <p class="muted">No results yet.</p>;
  const t0 = Date.parse(days[0]!.day);
  const t1 = Date.parse(days[days.length - 1]!.day);
  const xOf = (day: string) => left + (t1 === t0 ? plotW / 2 : ((Date.parse(day) - t0) / (t1 - t0)) * plotW);
  const yOf = (ratio: number) => top + (1 - ratio) * plotH;
  const points = days.map((d) => ({ x: xOf(d.day), y: yOf(d.results === 0 ? 0 : d.reproducible / d.results), d }));
  const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join('');
  const last = days[days.length - 1]!;
  return (
    <svg class="chart history" viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby={`${id}-t ${id}-d`}>
      <title id={`${id}-t`}>{`Reproducible share of each day's results, ${label}`}</title>
      <desc id={`${id}-d`}>{`${days.length} days from ${days[0]!.day} to ${last.day}; on ${last.day} ${share(last.reproducible, last.results)} of ${last.results} results reproduced`}</desc>
      {[0, 0.25, 0.5, 0.75, 1].map((r) => (
        <>
          <line class="axis" x1={left} x2={width - right} y1={yOf(r)} y2={yOf(r)} />
          <text x={left - 4} y={yOf(r) + 4} text-anchor="end">{`${r * 100}%`}</text>
        </>
      ))}
      <text x={left} y={height - 6}>{days[0]!.day}</text>
      <text x={width - right} y={height - 6} text-anchor="end">{last.day}</text>
      <path class="line" d={path} />
      {points.map((p) => (
        <circle class="dot" cx={p.x.toFixed(1)} cy={p.y.toFixed(1)} r="3">
          <title>{`${p.d.day}: ${p.d.reproducible} of ${p.d.results} (${share(p.d.reproducible, p.d.results)})`}</title>
        </circle>
      ))}
    </svg>
  );
};

export const Legend: FC = () => (
  <ul class="legend" aria-label="Colours">
    {SEGMENTS.map((k) => (
      <li class={`l-${k}`}>{VERDICT_TEXT[k]}</li>
    ))}
  </ul>
);
