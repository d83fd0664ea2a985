import type { ErrorResponse, SeriesResponse, StatusResponse } from '../api-types.js';
import { Charts } from './charts.js';
import { formatAgo, formatCount, formatDay, formatInstant, formatSigned } from './format.js';
import { CountyTable, GeoPicker, geoFromUrl, renderGeo } from './geo.js';
import { presetRange } from './ticks.js';

/**
 * The page's script: reads `/api/status` and `/api/series` (of the `?geo=` of the URL: the
 * nation when absent), fills the status line, the totals and the four charts, and reloads the
 * series when the date range changes (kept in the URL hash, so a range can be shared). A state
 * also lists its counties (`/api/counties`); the picker searches `/api/geos` on first use.
 */

interface Range {
  from?: string;
  to?: string;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

const byId = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T | null;

function setText(id: string, text: string): void {
  const element = byId(id);
  if (element) element.textContent = text;
}

class ApiError extends Error {}

async function getJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: 'application/json' }, signal });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(`Cannot reach the dashboard API (${(error as Error).message}).`);
  }
  const body = (await response.json().catch(() => undefined)) as T | ErrorResponse | undefined;
  if (!response.ok) {
    const reason = body && typeof body === 'object' && 'error' in body ? body.error : response.statusText;
    throw new ApiError(`${url.split('?')[0]} answered ${response.status}: ${reason}`);
  }
  return body as T;
}

function seriesUrl(range: Range): string {
  const params = new URLSearchParams();
  const geo = geoFromUrl();
  if (geo !== undefined) params.set('geo', geo);
  if (range.from) params.set('from', range.from);
  if (range.to) params.set('to', range.to);
  const query = params.toString();
  return `/api/series${query ? `?${query}` : ''}`;
}

function rangeFromHash(): Range {
  const params = new URLSearchParams(window.location.hash.slice(1));
  const pick = (name: string) => {
    const value = params.get(name);
    return value && ISO_DATE.test(value) ? value : undefined;
  };
  return { from: pick('from'), to: pick('to') };
}

function showMessage(text: string | undefined, kind: 'info' | 'error' = 'info'): void {
  const element = byId('message');
  if (!element) return;
  element.hidden = !text;
  element.textContent = text ?? '';
  element.dataset.kind = kind;
}

function renderStatus(status: StatusResponse): void {
  const now = new Date(status.now);
  const through = byId('data-through');
  if (through) {
    if (status.data) {
      const time = document.createElement('time');
      time.dateTime = status.data.lastDate;
      time.textContent = formatDay(status.data.lastDate);
      through.replaceChildren(time);
      through.dataset.date = status.data.lastDate;
    } else {
      through.textContent = 'no data yet';
    }
  }
  setText(
    'data-changed',
    status.data?.lastChangedAt ? `· last changed ${formatAgo(status.data.lastChangedAt, now)}` : '',
  );
  const badge = byId('run-status');
  const run = status.latestRun;
  if (badge) {
    badge.textContent = run ? run.status : 'no run yet';
    badge.dataset.status = run?.status ?? 'NONE';
  }
  const runTime = byId('run-time');
  if (runTime) {
    const at = run?.finishedAt ?? run?.startedAt;
    if (run && at) {
      const time = document.createElement('time');
      time.dateTime = at;
      time.textContent = `${run.finishedAt ? 'finished' : 'started'} ${formatAgo(at, now)}`;
      time.title = formatInstant(at);
      runTime.replaceChildren(time);
    } else {
      runTime.replaceChildren();
    }
  }
  const counts = run?.counts;
  setText(
    'run-counts',
    counts
      ? `· ${formatCount(counts.inserted)} new, ${formatCount(counts.updated)} updated${
          counts.rejected ? `, ${formatCount(counts.rejected)} rejected` : ''
        }`
      : run?.failure
        ? `· ${run.failure}`
        : '',
  );
}

function renderTotals(data: SeriesResponse): void {
  const last = data.series.at(-1);
  const lastDate = byId('last-date');
  if (lastDate) {
    lastDate.textContent = last ? formatDay(last.date) : '–';
    lastDate.setAttribute('datetime', last?.date ?? '');
  }
  const kpi = (id: string, value: number | null, text: string, sub: string) => {
    const element = byId(id);
    if (element) {
      element.textContent = text;
      element.dataset.value = value === null ? '' : String(value);
    }
    setText(`${id}-sub`, sub);
  };
  const daily = (today: number | null, average: number | null) =>
    [
      today === null ? '' : `${formatSigned(today)} that day`,
      average === null ? '' : `7-day avg ${formatCount(average)}`,
    ]
      .filter(Boolean)
      .join(' · ');
  if (!last) {
    kpi('kpi-cases', null, '–', '');
    kpi('kpi-deaths', null, '–', '');
    kpi('kpi-recovered', null, '–', '');
    return;
  }
  kpi('kpi-cases', last.cases, formatCount(last.cases), daily(last.newCases, last.newCases7d));
  kpi(
    'kpi-deaths',
    last.deaths,
    last.deaths === null ? 'Not reported' : formatCount(last.deaths),
    daily(last.newDeaths, last.newDeaths7d),
  );
  if (last.recovered !== null) {
    kpi('kpi-recovered', last.recovered, formatCount(last.recovered), 'reported by Johns Hopkins CSSE');
  } else {
    const reported = data.series.filter((p) => p.recovered !== null).at(-1);
    const until = reported?.date ?? data.recoveredReportedUntil;
    kpi(
      'kpi-recovered',
      null,
      'Not reported',
      reported
        ? `last reported ${formatCount(reported.recovered as number)} on ${formatDay(reported.date)}`
        : until
          ? `not reported after ${formatDay(until)}`
          : 'not reported',
    );
  }
}

function renderNote(data: SeriesResponse): void {
  const note = byId('recovered-note');
  if (!note) return;
  const from = data.recoveredNotReportedFrom;
  const last = data.series.at(-1);
  const relevant = from !== null && last !== undefined && last.date >= from;
  note.hidden = !relevant;
  if (!relevant) return;
  const strong = document.createElement('strong');
  strong.textContent = 'Recoveries: ';
  const until = data.recoveredReportedUntil
    ? ` The recovered line ends on ${formatDay(data.recoveredReportedUntil)}.`
    : '';
  note.replaceChildren(
    strong,
    document.createTextNode(
      `from ${from} Johns Hopkins no longer reports US recoveries: shown as not reported, not as zero.${until}`,
    ),
  );
}

class Dashboard {
  private readonly charts = new Charts();
  private available: { from: string; to: string } | null = null;
  private loading: AbortController | undefined;
  private readonly from = byId<HTMLInputElement>('from');
  private readonly to = byId<HTMLInputElement>('to');

  private readonly counties = new CountyTable(getJson);
  private geoShown = false;

  async start(): Promise<void> {
    new GeoPicker(getJson).bind();
    this.bindControls();
    const statusLoad = getJson<StatusResponse>('/api/status')
      .then(renderStatus)
      .catch((error: Error) => {
        setText('run-status', 'unknown');
        setText('run-counts', error.message);
      });
    const hashRange = rangeFromHash();
    try {
      await this.load(hashRange);
    } catch (error) {
      if (!(error instanceof ApiError) || (!hashRange.from && !hashRange.to)) throw error;
      // A shared link with a range this data cannot answer: say so and show everything.
      await this.load({});
      showMessage(`${error.message}. Showing every day instead.`, 'error');
    }
    await statusLoad;
  }

  private bindControls(): void {
    for (const button of document.querySelectorAll<HTMLButtonElement>('[data-preset]')) {
      button.addEventListener('click', () => {
        if (!this.available) return;
        const range = presetRange(button.dataset.preset ?? 'all', this.available);
        if (range) void this.change(range);
      });
    }
    const onDate = () => {
      const from = this.from?.value || undefined;
      const to = this.to?.value || undefined;
      const error = byId('range-error');
      const invalid = from !== undefined && to !== undefined && from > to;
      this.from?.setAttribute('aria-invalid', String(invalid));
      this.to?.setAttribute('aria-invalid', String(invalid));
      if (error) {
        error.hidden = !invalid;
        error.textContent = invalid ? `“From” (${formatDay(from)}) is after “To” (${formatDay(to)}).` : '';
      }
      if (!invalid) void this.change({ from, to });
    };
    this.from?.addEventListener('change', onDate);
    this.to?.addEventListener('change', onDate);
    matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => this.charts.repaint());
  }

  private async change(range: Range): Promise<void> {
    try {
      await this.load(range);
      const params = new URLSearchParams();
      if (range.from) params.set('from', range.from);
      if (range.to) params.set('to', range.to);
      const page = `${window.location.pathname}${window.location.search}`;
      history.replaceState(null, '', params.size ? `${page}#${params}` : page);
    } catch (error) {
      if ((error as Error).name === 'AbortError') return;
      showMessage((error as Error).message, 'error');
    }
  }

  private async load(range: Range): Promise<void> {
    this.loading?.abort();
    const controller = new AbortController();
    this.loading = controller;
    document.body.dataset.state = 'loading';
    const data = await getJson<SeriesResponse>(seriesUrl(range), controller.signal);
    if (controller.signal.aborted) return;
    if (data.geo && !this.geoShown) {
      this.geoShown = true;
      renderGeo(data.geo);
      if (data.geo.level === 'state') {
        await this.counties.show(data.geo.id).catch((error: Error) => showMessage(error.message, 'error'));
      }
    }
    this.available = data.available;
    if (!data.available) {
      document.body.dataset.state = 'empty';
      showMessage(
        'No data yet: the data table is empty. Load it with “pnpm etl run” (locally), or wait for the daily run.',
      );
      return;
    }
    showMessage(
      data.series.length === 0
        ? `No data between ${range.from ?? 'the start'} and ${range.to ?? 'the end'}: the table holds ${data.available.from} to ${data.available.to}.`
        : undefined,
    );
    this.syncControls(data);
    renderTotals(data);
    renderNote(data);
    this.charts.render(data);
    document.body.dataset.state = 'ready';
  }

  private syncControls(data: SeriesResponse): void {
    const available = data.available;
    if (!available) return;
    const first = data.series[0]?.date ?? data.from ?? available.from;
    const last = data.series.at(-1)?.date ?? data.to ?? available.to;
    for (const input of [this.from, this.to]) {
      if (!input) continue;
      input.min = available.from;
      input.max = available.to;
    }
    if (this.from) this.from.value = first;
    if (this.to) this.to.value = last;
    for (const button of document.querySelectorAll<HTMLButtonElement>('[data-preset]')) {
      const preset = presetRange(button.dataset.preset ?? '', available);
      button.setAttribute('aria-pressed', String(preset?.from === first && preset?.to === last));
    }
  }
}

const start = () =>
  new Dashboard().start().catch((error: Error) => {
    document.body.dataset.state = 'error';
    showMessage(error.message, 'error');
  });

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else void start();
