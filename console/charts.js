// Charts drawn with uPlot, served by the node (console/vendor). Each chart's element keeps the
// data it was drawn from in data-points, so what a chart shows can be checked against the API.
import uPlot from './vendor/uPlot.esm.js';

const COLORS = ['#2457c5', '#d9730d', '#1e7b34', '#8e44ad', '#b3261e'];
const drawn = new Set();

function width(el) {
  return Math.max(260, Math.floor((el.clientWidth || 320) - 12));
}

/**
 * A chart of one or more series over time. `xs` are epoch seconds; each series has a label and
 * its values (null: no value there). `bars` draws bars (usage by day).
 */
export function chart({ title, name, xs, series, bars = false, height = 170, yLabel }) {
  const el = document.createElement('div');
  el.className = 'chart';
  el.dataset.chart = name;
  el.dataset.points = JSON.stringify([xs, ...series.map((s) => s.values)]);
  const heading = document.createElement('p');
  heading.className = 'title';
  heading.textContent = title;
  el.append(heading);
  const plotHost = document.createElement('div');
  el.append(plotHost);
  const opts = {
    width: 320, height,
    legend: { show: true },
    // Bars get half a day either side, so the first and last days show whole.
    scales: { x: { time: true, ...(bars ? { range: (_u, min, max) => [min - 43_200, max + 43_200] } : {}) } },
    axes: [{}, { label: yLabel, size: 50 }],
    series: [{}, ...series.map((s, i) => ({
      label: s.label,
      stroke: COLORS[i % COLORS.length],
      width: 2,
      spanGaps: false,
      ...(bars ? { fill: COLORS[i % COLORS.length] + '88', paths: uPlot.paths.bars({ size: [0.8 / series.length, 60], align: 0 }) } : {}),
    }))],
  };
  // Drawn once it is in the page, at the width it gets there.
  queueMicrotask(() => {
    opts.width = width(el);
    const plot = new uPlot(opts, [xs, ...series.map((s) => s.values)], plotHost);
    drawn.add({ el, plot });
  });
  return el;
}

addEventListener('resize', () => {
  for (const entry of drawn) {
    if (!entry.el.isConnected) {
      entry.plot.destroy();
      drawn.delete(entry);
    } else entry.plot.setSize({ width: width(entry.el), height: entry.plot.height });
  }
});
