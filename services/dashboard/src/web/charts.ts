import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartDataset,
  type ChartOptions,
  Filler,
  LinearScale,
  LineController,
  LineElement,
  type Plugin,
  PointElement,
  Tooltip,
  type TooltipModel,
} from 'chart.js';
import type { SeriesPoint, SeriesResponse } from '../api-types.js';
import { formatCompact, formatCount, formatDay, formatMonth, formatMonthDay, formatWeekday } from './format.js';
import { tickIndices, tickLabel } from './ticks.js';

Chart.register(
  LineController,
  LineElement,
  PointElement,
  BarController,
  BarElement,
  CategoryScale,
  LinearScale,
  Filler,
  Tooltip,
);

type Kind = 'line' | 'bar';
type Values = Array<number | null>;
type AnyChart = Chart<Kind, Values, string>;

/** The colours of the page (CSS custom properties), read when the charts are drawn. */
interface Palette {
  cases: string;
  casesSoft: string;
  casesFill: string;
  deaths: string;
  deathsSoft: string;
  deathsFill: string;
  recovered: string;
  grid: string;
  muted: string;
  text: string;
  marker: string;
}

function palette(): Palette {
  const style = getComputedStyle(document.documentElement);
  const get = (name: string) => style.getPropertyValue(`--${name}`).trim();
  return {
    cases: get('cases'),
    casesSoft: get('cases-soft'),
    casesFill: get('cases-fill'),
    deaths: get('deaths'),
    deathsSoft: get('deaths-soft'),
    deathsFill: get('deaths-fill'),
    recovered: get('recovered'),
    grid: get('grid'),
    muted: get('muted'),
    text: get('text'),
    marker: get('marker'),
  };
}

/** A row of a tooltip or legend: a colour, a name and (in a tooltip) a value. */
interface Row {
  color: string;
  label: string;
  value?: string;
  shape?: 'line' | 'bar';
}

interface ChartSpec {
  id: string;
  title: string;
  datasets: (data: SeriesResponse, colors: Palette) => Array<ChartDataset<Kind, Values>>;
  rows: (point: SeriesPoint, data: SeriesResponse, colors: Palette) => Row[];
  legend: (colors: Palette) => Row[];
  describe: (data: SeriesResponse) => string;
  beginAtZero: boolean;
  /** Draw the "recoveries not reported from here" marker. */
  marker?: boolean;
}

const line = (label: string, data: Values, color: string, extra: Partial<ChartDataset<'line', Values>> = {}) =>
  ({
    type: 'line',
    label,
    data,
    borderColor: color,
    backgroundColor: color,
    borderWidth: 2.25,
    pointRadius: 0,
    pointHoverRadius: 4,
    pointHoverBorderWidth: 2,
    pointHoverBackgroundColor: color,
    tension: 0,
    spanGaps: false,
    ...extra,
  }) as ChartDataset<Kind, Values>;

const bars = (label: string, data: Values, color: string) =>
  ({
    type: 'bar',
    label,
    data,
    backgroundColor: color,
    hoverBackgroundColor: color,
    barPercentage: 1,
    categoryPercentage: 1,
    borderWidth: 0,
    order: 2,
  }) as ChartDataset<Kind, Values>;

const value = (n: number | null, format = formatCount) => (n === null ? '–' : format(n));

const last = (data: SeriesResponse) => data.series.at(-1);
const rangeText = (data: SeriesResponse) => {
  const first = data.series[0];
  const end = last(data);
  return first && end ? `from ${formatDay(first.date)} to ${formatDay(end.date)}` : 'no data';
};

const SPECS: ChartSpec[] = [
  {
    id: 'cumulative',
    title: 'Cumulative cases and recoveries',
    beginAtZero: true,
    marker: true,
    datasets: (data, c) => [
      line(
        'Cases',
        data.series.map((p) => p.cases),
        c.cases,
        { fill: { target: 'origin', above: c.casesFill } },
      ),
      line(
        'Recovered',
        data.series.map((p) => p.recovered),
        c.recovered,
      ),
    ],
    rows: (p, data, c) => [
      { color: c.cases, label: 'Cases', value: formatCount(p.cases) },
      // Only the nation has recoveries (Johns Hopkins); a state or county shows cases alone.
      ...(data.geo && data.geo.level !== 'nation'
        ? []
        : [
            {
              color: c.recovered,
              label: 'Recovered',
              value:
                p.recovered !== null
                  ? formatCount(p.recovered)
                  : data.recoveredNotReportedFrom && p.date >= data.recoveredNotReportedFrom
                    ? 'not reported'
                    : '–',
            },
          ]),
    ],
    legend: (c) => [
      { color: c.cases, label: 'Cases', shape: 'line' },
      { color: c.recovered, label: 'Recovered', shape: 'line' },
    ],
    describe: (data) => {
      const end = last(data);
      if (!end) return 'Cumulative cases and recoveries: no data.';
      const reported = data.series.filter((p) => p.recovered !== null).at(-1);
      const recovered = reported
        ? ` Recoveries reached ${formatCount(reported.recovered as number)} on ${formatDay(reported.date)}${
            reported !== end ? ', and are not reported after that' : ''
          }.`
        : ' Recoveries are not reported in this range.';
      return `Cumulative cases ${rangeText(data)}: ${formatCount(end.cases)} on the last day.${recovered}`;
    },
  },
  {
    id: 'deaths',
    title: 'Cumulative deaths',
    beginAtZero: true,
    datasets: (data, c) => [
      line(
        'Deaths',
        data.series.map((p) => p.deaths),
        c.deaths,
        { fill: { target: 'origin', above: c.deathsFill } },
      ),
    ],
    rows: (p, _data, c) => [
      { color: c.deaths, label: 'Deaths', value: p.deaths === null ? 'not reported' : formatCount(p.deaths) },
    ],
    legend: (c) => [{ color: c.deaths, label: 'Deaths', shape: 'line' }],
    describe: (data) => {
      const end = last(data);
      return end
        ? `Cumulative deaths ${rangeText(data)}: ${end.deaths === null ? 'not reported' : formatCount(end.deaths)} on the last day.`
        : 'Cumulative deaths: no data.';
    },
  },
  {
    id: 'daily-cases',
    title: 'Daily new cases',
    beginAtZero: true,
    datasets: (data, c) => [
      line(
        '7-day average',
        data.series.map((p) => p.newCases7d),
        c.cases,
        { order: 1 },
      ),
      bars(
        'New cases',
        data.series.map((p) => p.newCases),
        c.casesSoft,
      ),
    ],
    rows: (p, _data, c) => [
      { color: c.casesSoft, label: 'New cases', value: value(p.newCases), shape: 'bar' },
      { color: c.cases, label: '7-day average', value: value(p.newCases7d) },
    ],
    legend: (c) => [
      { color: c.casesSoft, label: 'New cases', shape: 'bar' },
      { color: c.cases, label: '7-day average', shape: 'line' },
    ],
    describe: (data) => {
      const end = last(data);
      return end
        ? `Daily new cases ${rangeText(data)}: 7-day average ${value(end.newCases7d)} on the last day.`
        : 'Daily new cases: no data.';
    },
  },
  {
    id: 'daily-deaths',
    title: 'Daily new deaths',
    beginAtZero: true,
    datasets: (data, c) => [
      line(
        '7-day average',
        data.series.map((p) => p.newDeaths7d),
        c.deaths,
        { order: 1 },
      ),
      bars(
        'New deaths',
        data.series.map((p) => p.newDeaths),
        c.deathsSoft,
      ),
    ],
    rows: (p, _data, c) => [
      { color: c.deathsSoft, label: 'New deaths', value: value(p.newDeaths), shape: 'bar' },
      { color: c.deaths, label: '7-day average', value: value(p.newDeaths7d) },
    ],
    legend: (c) => [
      { color: c.deathsSoft, label: 'New deaths', shape: 'bar' },
      { color: c.deaths, label: '7-day average', shape: 'line' },
    ],
    describe: (data) => {
      const end = last(data);
      return end
        ? `Daily new deaths ${rangeText(data)}: 7-day average ${value(end.newDeaths7d)} on the last day.`
        : 'Daily new deaths: no data.';
    },
  },
];

/** Draws a dashed vertical line where recoveries stop being reported, with a short label. */
const notReportedMarker: Plugin<Kind> = {
  id: 'notReportedMarker',
  afterDatasetsDraw(chart, _args, options: { date?: string | null; color?: string; text?: string }) {
    const labels = chart.data.labels as string[] | undefined;
    if (!options.date || !labels) return;
    const index = labels.indexOf(options.date);
    if (index < 0) return;
    const x = chart.scales.x?.getPixelForValue(index);
    if (x === undefined) return;
    const { top, bottom } = chart.chartArea;
    const ctx = chart.ctx;
    ctx.save();
    ctx.strokeStyle = options.color ?? '#888';
    ctx.setLineDash([4, 4]);
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, bottom);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = options.color ?? '#888';
    ctx.font = '600 11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
    const text = options.text ?? '';
    const width = ctx.measureText(text).width;
    const alignRight = x + 6 + width > chart.chartArea.right;
    ctx.textAlign = alignRight ? 'right' : 'left';
    ctx.fillText(text, alignRight ? x - 6 : x + 6, top + 12);
    ctx.restore();
  },
};

/** Small ticks under the days the latest run revised (subtle: the tooltip says what they were). */
const revisedMarker: Plugin<Kind> = {
  id: 'revisedMarker',
  afterDatasetsDraw(chart, _args, options: { dates?: Record<string, unknown> | null; color?: string }) {
    const labels = chart.data.labels as string[] | undefined;
    if (!options.dates || !labels) return;
    const { bottom } = chart.chartArea;
    const ctx = chart.ctx;
    ctx.save();
    ctx.fillStyle = options.color ?? '#888';
    labels.forEach((date, index) => {
      if (!options.dates || !Object.hasOwn(options.dates, date)) return;
      const x = chart.scales.x?.getPixelForValue(index);
      if (x !== undefined) ctx.fillRect(Math.round(x) - 1, bottom - 5, 2, 5);
    });
    ctx.restore();
  },
};

/** The tooltip line of a revised day: "revised on 2026-11-25: was 34,621 deaths, …". */
export function revisedLine(data: SeriesResponse, date: string): string | undefined {
  const was = data.revised?.days[date];
  if (!data.revised || !was) return undefined;
  return `revised on ${data.revised.on}: was ${formatCount(was.cases)} cases, ${formatCount(was.deaths)} deaths, ${formatCount(was.recovered)} recovered`;
}

/** A thin vertical line following the hovered day. */
const crosshair: Plugin<Kind> = {
  id: 'crosshair',
  afterDatasetsDraw(chart, _args, options: { color?: string }) {
    const active = chart.tooltip?.getActiveElements()[0];
    if (!active || chart.tooltip?.opacity === 0) return;
    const x = active.element.x;
    const { top, bottom } = chart.chartArea;
    const ctx = chart.ctx;
    ctx.save();
    ctx.strokeStyle = options.color ?? '#888';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, bottom);
    ctx.stroke();
    ctx.restore();
  },
};

function swatch(row: Row): HTMLElement {
  const mark = document.createElement('span');
  mark.className = `swatch swatch-${row.shape ?? 'line'}`;
  mark.style.backgroundColor = row.color;
  mark.setAttribute('aria-hidden', 'true');
  return mark;
}

function renderLegend(container: HTMLElement, rows: Row[]): void {
  container.replaceChildren(
    ...rows.map((row) => {
      const item = document.createElement('span');
      item.className = 'legend-item';
      item.append(swatch(row), document.createTextNode(row.label));
      return item;
    }),
  );
}

function renderTooltip(element: HTMLElement, date: string, rows: Row[]): void {
  const heading = document.createElement('div');
  heading.className = 'tooltip-date';
  heading.textContent = formatWeekday(date);
  const body = rows.map((row) => {
    const line = document.createElement('div');
    line.className = 'tooltip-row';
    const label = document.createElement('span');
    label.className = 'tooltip-label';
    label.append(swatch(row), document.createTextNode(row.label));
    const number = document.createElement('span');
    number.className = 'tooltip-value';
    number.textContent = row.value ?? '';
    line.append(label, number);
    return line;
  });
  element.replaceChildren(heading, ...body);
  element.dataset.date = date;
}

/** The four charts of the page, drawn from one `SeriesResponse` and redrawn on every change. */
export class Charts {
  private readonly charts = new Map<string, AnyChart>();
  private data: SeriesResponse | undefined;

  /** Draws (or redraws) every chart with `data`. */
  render(data: SeriesResponse): void {
    this.data = data;
    const colors = palette();
    const labels = data.series.map((p) => p.date);
    for (const spec of SPECS) {
      const canvas = document.getElementById(`chart-${spec.id}`) as HTMLCanvasElement | null;
      const tooltip = document.getElementById(`tooltip-${spec.id}`);
      const legend = document.getElementById(`legend-${spec.id}`);
      const figure = document.getElementById(`figure-${spec.id}`);
      if (!canvas || !tooltip || !legend || !figure) continue;
      const recoveries = !data.geo || data.geo.level === 'nation';
      renderLegend(
        legend,
        spec.legend(colors).filter((row) => recoveries || row.label !== 'Recovered'),
      );
      canvas.setAttribute('aria-label', `${spec.describe(data)} Arrow keys read the values day by day.`);
      const datasets = spec.datasets(data, colors);
      const existing = this.charts.get(spec.id);
      if (existing) {
        existing.data.labels = labels;
        existing.data.datasets = datasets;
        existing.options = this.options(spec, colors, tooltip);
        existing.update('none');
      } else {
        this.charts.set(
          spec.id,
          new Chart<Kind, Values, string>(canvas, {
            type: 'line',
            data: { labels, datasets },
            options: this.options(spec, colors, tooltip),
            plugins: [notReportedMarker, revisedMarker, crosshair],
          }),
        );
        this.bindKeys(spec.id, canvas);
      }
      // What the chart is showing, for tests and scripts reading the page.
      figure.dataset.points = String(labels.length);
      figure.dataset.firstDate = labels[0] ?? '';
      figure.dataset.lastDate = labels.at(-1) ?? '';
      figure.dataset.revised = String(Object.keys(data.revised?.days ?? {}).length);
    }
    const recovered = this.charts.get('cumulative')?.data.datasets[1]?.data ?? [];
    const lastReported = recovered.findLastIndex((v) => v !== null && v !== undefined);
    const cumulative = document.getElementById('figure-cumulative');
    if (cumulative) cumulative.dataset.recoveredLastDate = lastReported >= 0 ? (labels[lastReported] ?? '') : '';
  }

  /** Redraws with the page's current colours (after a light/dark switch). */
  repaint(): void {
    if (this.data) this.render(this.data);
  }

  /** Left/Right (a day), Page Up/Down (a week), Home/End and Escape move the tooltip from the keyboard. */
  private bindKeys(id: string, canvas: HTMLCanvasElement): void {
    canvas.tabIndex = 0;
    const moves: Record<string, (index: number, count: number) => number> = {
      ArrowLeft: (i) => i - 1,
      ArrowRight: (i) => i + 1,
      PageUp: (i) => i - 7,
      PageDown: (i) => i + 7,
      Home: () => 0,
      End: (_, count) => count - 1,
    };
    const show = (index: number | undefined) => {
      const chart = this.charts.get(id);
      if (!chart) return;
      const active = index === undefined ? [] : chart.data.datasets.map((_, datasetIndex) => ({ datasetIndex, index }));
      chart.setActiveElements(active);
      chart.tooltip?.setActiveElements(active, { x: 0, y: 0 });
      chart.update('none');
    };
    canvas.addEventListener('keydown', (event) => {
      const chart = this.charts.get(id);
      const count = chart?.data.labels?.length ?? 0;
      if (!chart || count === 0) return;
      if (event.key === 'Escape') {
        show(undefined);
        return;
      }
      const move = moves[event.key];
      if (!move) return;
      event.preventDefault();
      const current = chart.tooltip?.getActiveElements()[0]?.index ?? count;
      show(Math.max(0, Math.min(count - 1, move(current, count))));
    });
    canvas.addEventListener('blur', () => show(undefined));
  }

  private options(spec: ChartSpec, colors: Palette, tooltipElement: HTMLElement): ChartOptions<Kind> {
    const data = this.data as SeriesResponse;
    const dates = data.series.map((p) => p.date);
    let ticks: number[] = [];
    const font = { family: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif', size: 12 };
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: 'index', intersect: false, axis: 'x' },
      layout: { padding: { top: 4, right: 4 } },
      scales: {
        x: {
          type: 'category',
          grid: { display: false },
          border: { color: colors.grid },
          afterBuildTicks: (axis) => {
            const maxTicks = Math.max(3, Math.floor((axis.chart.width || 600) / 72));
            ticks = tickIndices(dates, maxTicks);
            axis.ticks = ticks.map((index) => ({ value: index }));
          },
          ticks: {
            autoSkip: false,
            maxRotation: 0,
            color: colors.muted,
            font,
            callback: (_value, position) =>
              tickLabel(dates, ticks, position, { month: formatMonth, monthDay: formatMonthDay }),
          },
        },
        y: {
          type: 'linear',
          beginAtZero: spec.beginAtZero,
          grid: { color: colors.grid },
          border: { display: false },
          ticks: { color: colors.muted, font, maxTicksLimit: 6, callback: (v) => formatCompact(Number(v)) },
        },
      },
      plugins: {
        tooltip: {
          enabled: false,
          external: ({ chart, tooltip }) => this.positionTooltip(spec, chart as AnyChart, tooltip, tooltipElement),
        },
        notReportedMarker: spec.marker
          ? { date: data.recoveredNotReportedFrom, color: colors.marker, text: 'recoveries not reported' }
          : {},
        revisedMarker: { dates: data.revised?.days ?? null, color: colors.muted },
        crosshair: { color: colors.muted },
      } as ChartOptions<Kind>['plugins'],
    };
  }

  private positionTooltip(spec: ChartSpec, chart: AnyChart, tooltip: TooltipModel<Kind>, element: HTMLElement): void {
    const index = tooltip.dataPoints?.[0]?.dataIndex;
    const point = index === undefined ? undefined : this.data?.series[index];
    if (tooltip.opacity === 0 || !point || !this.data) {
      element.hidden = true;
      return;
    }
    renderTooltip(element, point.date, spec.rows(point, this.data, palette()));
    const revised = revisedLine(this.data, point.date);
    if (revised) {
      const note = document.createElement('div');
      note.className = 'tooltip-revised';
      note.textContent = revised;
      element.append(note);
    }
    element.hidden = false;
    const width = element.offsetWidth;
    const plotWidth = chart.canvas.clientWidth;
    const gap = 14;
    let left = tooltip.caretX + gap;
    if (left + width > plotWidth) left = tooltip.caretX - gap - width;
    left = Math.max(0, Math.min(left, plotWidth - width));
    element.style.transform = `translate(${Math.round(left)}px, ${Math.round(chart.chartArea.top)}px)`;
  }
}
