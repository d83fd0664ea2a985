import type { CountiesResponse, CountyRow, GeosResponse, GeoView } from '../api-types.js';
import { formatCount, formatDay } from './format.js';

/**
 * The page's geography: the picker (searches the catalogue, fetched once on first use: ~3,300
 * short entries, never a series), the path above the title, and a state's county table,
 * sortable by any column.
 */

type Entry = GeosResponse['geos'][number];
type SortKey = 'name' | 'date' | 'cases' | 'deaths' | 'newCases7d' | 'newDeaths7d';

const MAX_RESULTS = 12;

/** The `geo` of the page's URL (`?geo=48201`), or undefined for the nation. The API validates it. */
export function geoFromUrl(): string | undefined {
  return new URLSearchParams(window.location.search).get('geo') ?? undefined;
}

/** The page URL of a geography (the nation: no `geo`). */
export function geoHref(id: string): string {
  return id === 'US' ? window.location.pathname : `${window.location.pathname}?geo=${encodeURIComponent(id)}`;
}

const normalize = (text: string) =>
  text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();

function link(id: string, text: string): HTMLAnchorElement {
  const anchor = document.createElement('a');
  anchor.href = geoHref(id);
  anchor.textContent = text;
  anchor.dataset.geo = id;
  return anchor;
}

/** The search box: filters the catalogue by name (state names included for counties). */
export class GeoPicker {
  private entries: Promise<Array<Entry & { label: string; key: string }>> | undefined;
  private readonly input = document.getElementById('geo-search') as HTMLInputElement | null;
  private readonly results = document.getElementById('geo-results');

  constructor(private readonly getJson: <T>(url: string) => Promise<T>) {}

  bind(): void {
    this.input?.addEventListener('focus', () => void this.load().catch(() => undefined));
    this.input?.addEventListener('input', () => void this.search());
    this.input?.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter') return;
      const first = this.results?.querySelector('a');
      if (first) window.location.assign(first.href);
    });
  }

  private load() {
    this.entries ??= this.getJson<GeosResponse>('/api/geos').then(({ geos }) => {
      return geos.map((geo) => {
        const label = geo.level === 'county' ? `${geo.name}, ${geo.stateName ?? geo.state}` : geo.name;
        return { ...geo, label, key: normalize(`${label} ${geo.id}`) };
      });
    });
    this.entries.catch(() => {
      this.entries = undefined;
    });
    return this.entries;
  }

  private async search(): Promise<void> {
    if (!this.input || !this.results) return;
    const words = normalize(this.input.value)
      .split(/[\s,]+/)
      .filter(Boolean);
    if (words.length === 0) {
      this.results.hidden = true;
      this.results.replaceChildren();
      return;
    }
    let entries: Awaited<ReturnType<GeoPicker['load']>>;
    try {
      entries = await this.load();
    } catch (error) {
      const item = document.createElement('li');
      item.textContent = (error as Error).message;
      this.results.replaceChildren(item);
      this.results.hidden = false;
      return;
    }
    const matches = entries.filter((entry) => words.every((word) => entry.key.includes(word))).slice(0, MAX_RESULTS);
    this.results.replaceChildren(
      ...(matches.length > 0
        ? matches.map((entry) => {
            const item = document.createElement('li');
            const anchor = link(entry.id, entry.label);
            const level = document.createElement('span');
            level.className = 'muted';
            level.textContent = entry.level;
            anchor.append(level);
            item.append(anchor);
            return item;
          })
        : [Object.assign(document.createElement('li'), { textContent: 'No state or county by that name.' })]),
    );
    this.results.hidden = false;
  }
}

/** The path above the title (United States › Texas › Harris), the title and the lede for a geography. */
export function renderGeo(geo: GeoView): void {
  const stateName = geo.stateName ?? geo.state ?? undefined;
  const path = document.getElementById('geo-path');
  if (path) {
    const parts: Node[] = [link('US', 'United States')];
    if (geo.level !== 'nation' && geo.state) {
      parts.push(document.createTextNode(' › '));
      parts.push(geo.level === 'state' ? document.createTextNode(geo.name) : link(geo.state, stateName ?? geo.state));
    }
    if (geo.level === 'county') parts.push(document.createTextNode(` › ${geo.name}`));
    path.replaceChildren(...parts);
    path.dataset.geo = geo.id;
  }
  if (geo.level === 'nation') return;
  const place = geo.level === 'county' && stateName ? `${geo.name}, ${stateName}` : geo.name;
  const title = document.getElementById('page-title');
  if (title) title.textContent = `${place}: COVID-19 cases and deaths`;
  document.title = `${place}: COVID-19 cases and deaths`;
  const lede = document.getElementById('lede');
  if (lede) {
    lede.textContent = `Daily totals for ${place} (${geo.level} ${geo.id}) from The New York Times. Recoveries are reported for the nation only.`;
  }
  const recovered = document.getElementById('kpi-recovered-card');
  if (recovered) recovered.hidden = true;
  const cumulative = document.querySelector('#figure-cumulative figcaption');
  const heading = cumulative?.querySelector('h3');
  const caption = cumulative?.querySelector('p');
  if (heading) heading.textContent = 'Cumulative cases';
  if (caption) caption.textContent = 'Total confirmed cases reported so far.';
}

/** A state's county table: one request, sorted in the page. */
export class CountyTable {
  private rows: CountyRow[] = [];
  private sort: { key: SortKey; descending: boolean } = { key: 'name', descending: false };
  private readonly section = document.getElementById('counties');
  private readonly body = document.getElementById('county-rows');

  constructor(private readonly getJson: <T>(url: string) => Promise<T>) {
    for (const button of document.querySelectorAll<HTMLButtonElement>('#counties [data-sort]')) {
      button.addEventListener('click', () => {
        const key = button.dataset.sort as SortKey;
        // Numbers sort largest first on the first click; names A to Z.
        const descending = this.sort.key === key ? !this.sort.descending : key !== 'name';
        this.sort = { key, descending };
        this.render();
      });
    }
  }

  async show(state: string): Promise<CountiesResponse> {
    const data = await this.getJson<CountiesResponse>(`/api/counties?state=${encodeURIComponent(state)}`);
    this.rows = data.counties;
    const heading = document.getElementById('counties-heading');
    if (heading) heading.textContent = `Counties of ${data.state.name} (${formatCount(data.counties.length)})`;
    if (this.section) this.section.hidden = false;
    this.render();
    return data;
  }

  private render(): void {
    if (!this.body) return;
    const { key, descending } = this.sort;
    const value = (row: CountyRow) => row[key];
    const sorted = [...this.rows].sort((a, b) => {
      const x = value(a);
      const y = value(b);
      // Unknown values (not reported, no average yet) go last whichever the direction.
      if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
      const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return (descending ? -order : order) || a.name.localeCompare(b.name);
    });
    const cell = (text: string, numeric = false) => {
      const td = document.createElement('td');
      td.textContent = text;
      if (numeric) td.className = 'num';
      return td;
    };
    const count = (n: number | null) => (n === null ? '–' : formatCount(n));
    const average = (n: number | null) =>
      n === null ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 });
    this.body.replaceChildren(
      ...sorted.map((row) => {
        const tr = document.createElement('tr');
        tr.dataset.geo = row.id;
        const name = document.createElement('th');
        name.scope = 'row';
        name.append(link(row.id, row.name));
        tr.append(
          name,
          cell(formatDay(row.date)),
          cell(count(row.cases), true),
          cell(row.deaths === null ? 'not reported' : formatCount(row.deaths), true),
          cell(average(row.newCases7d), true),
          cell(average(row.newDeaths7d), true),
        );
        return tr;
      }),
    );
    for (const button of document.querySelectorAll<HTMLButtonElement>('#counties [data-sort]')) {
      const th = button.closest('th');
      if (!th) continue;
      if (button.dataset.sort === key) th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
      else th.removeAttribute('aria-sort');
    }
  }
}
