import type { SourceAttribution } from './api-types.js';

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

const CHARTS = [
  {
    id: 'cumulative',
    title: 'Cumulative cases and recoveries',
    caption: 'Total confirmed cases and total recoveries reported so far.',
  },
  { id: 'deaths', title: 'Cumulative deaths', caption: 'Total deaths reported so far.' },
  {
    id: 'daily-cases',
    title: 'Daily new cases',
    caption: 'New cases each day (bars) and their 7-day average (line).',
  },
  {
    id: 'daily-deaths',
    title: 'Daily new deaths',
    caption: 'New deaths each day (bars) and their 7-day average (line).',
  },
] as const;

/**
 * The dashboard's HTML: a static shell (headings, controls, empty figures, attribution) that
 * `/assets/app.js` fills from the JSON API. Nothing inline, so the Content-Security-Policy can
 * forbid inline script and style.
 */
export function renderPage({
  environment,
  version,
  sources,
}: {
  environment: string;
  version: string;
  sources: SourceAttribution[];
}): string {
  const asset = (name: string) => `/assets/${name}?v=${encodeURIComponent(version)}`;
  const figures = CHARTS.map(
    (chart) => `
      <figure class="card chart" id="figure-${chart.id}" data-testid="chart-${chart.id}">
        <figcaption>
          <h3>${chart.title}</h3>
          <p>${chart.caption}</p>
        </figcaption>
        <div class="legend" id="legend-${chart.id}"></div>
        <div class="plot">
          <canvas id="chart-${chart.id}" role="img" aria-label="${chart.title}: loading"></canvas>
          <div class="tooltip" id="tooltip-${chart.id}" role="status" hidden></div>
        </div>
      </figure>`,
  ).join('');
  const attributions = sources
    .map(
      (source) => `
          <li><strong>${source.provides[0]?.toUpperCase()}${source.provides.slice(1)}:</strong>
            <a href="${escapeHtml(source.url)}" rel="noopener">${escapeHtml(source.name)}</a>,
            ${escapeHtml(source.licence)}.</li>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <meta name="description" content="US COVID-19 cases, deaths and recoveries over time, from The New York Times and Johns Hopkins CSSE.">
  <title>US COVID-19 cases, deaths and recoveries</title>
  <link rel="icon" type="image/svg+xml" href="${asset('favicon.svg')}">
  <link rel="stylesheet" href="${asset('app.css')}">
  <script defer src="${asset('app.js')}"></script>
</head>
<body data-state="loading">
  <a class="skip-link" href="#main">Skip to the charts</a>
  <header class="masthead">
    <div class="masthead-inner">
      <p class="eyebrow">covid-etl <span class="env" data-testid="environment">${escapeHtml(environment)}</span></p>
      <nav class="geo-path" id="geo-path" data-testid="geo-path" aria-label="Geography"></nav>
      <h1 id="page-title" data-testid="page-title">US COVID-19 cases, deaths and recoveries</h1>
      <p class="lede" id="lede">National daily totals for the United States, loaded once a day from The New York Times and Johns Hopkins CSSE.</p>
      <dl class="status" aria-live="polite">
        <div class="status-item">
          <dt>Data through</dt>
          <dd><span id="data-through" data-testid="data-through">…</span> <span class="muted" id="data-changed"></span></dd>
        </div>
        <div class="status-item">
          <dt>Latest run</dt>
          <dd><span id="run-status" class="badge" data-testid="run-status">…</span> <span id="run-time" data-testid="run-time"></span> <span class="muted" id="run-counts"></span></dd>
        </div>
      </dl>
    </div>
  </header>

  <main id="main">
    <section class="geo-picker card" role="search" aria-labelledby="geo-heading">
      <h2 id="geo-heading" class="visually-hidden">Geography</h2>
      <label for="geo-search">Nation, state or county</label>
      <input type="search" id="geo-search" data-testid="geo-search" autocomplete="off" placeholder="Search by name, e.g. Harris or Texas" aria-controls="geo-results">
      <ul class="geo-results" id="geo-results" data-testid="geo-results" hidden></ul>
    </section>

    <section class="controls card" aria-labelledby="range-heading">
      <h2 id="range-heading" class="visually-hidden">Date range</h2>
      <div class="presets" role="group" aria-label="Quick ranges">
        <button type="button" data-preset="all">All</button>
        <button type="button" data-preset="365">1 year</button>
        <button type="button" data-preset="90">90 days</button>
        <button type="button" data-preset="30">30 days</button>
      </div>
      <div class="dates">
        <label for="from">From</label>
        <input type="date" id="from" name="from" data-testid="from">
        <label for="to">To</label>
        <input type="date" id="to" name="to" data-testid="to">
      </div>
      <p class="range-error" id="range-error" role="alert" hidden></p>
    </section>

    <p class="message card" id="message" role="status" hidden></p>

    <section class="totals" aria-labelledby="totals-heading">
      <h2 id="totals-heading">Totals on <time id="last-date" data-testid="last-date">…</time></h2>
      <div class="kpis">
        <article class="kpi kpi-cases">
          <h3>Cases</h3>
          <p class="kpi-value" id="kpi-cases" data-testid="last-cases">…</p>
          <p class="kpi-sub" id="kpi-cases-sub"></p>
        </article>
        <article class="kpi kpi-deaths">
          <h3>Deaths</h3>
          <p class="kpi-value" id="kpi-deaths" data-testid="last-deaths">…</p>
          <p class="kpi-sub" id="kpi-deaths-sub"></p>
        </article>
        <article class="kpi kpi-recovered" id="kpi-recovered-card">
          <h3>Recovered</h3>
          <p class="kpi-value" id="kpi-recovered" data-testid="last-recovered">…</p>
          <p class="kpi-sub" id="kpi-recovered-sub"></p>
        </article>
      </div>
    </section>

    <aside class="note" id="recovered-note" data-testid="recovered-note" role="note" hidden></aside>

    <section class="charts" aria-label="Charts">${figures}
    </section>

    <section class="counties card" id="counties" data-testid="counties" aria-labelledby="counties-heading" hidden>
      <h2 id="counties-heading">Counties</h2>
      <p class="muted">Latest day of each county, cumulative totals and 7-day averages of new cases and deaths. Sort by a column; open a county by its name.</p>
      <div class="table-scroll">
        <table data-testid="county-table">
          <thead>
            <tr>
              <th scope="col" aria-sort="ascending"><button type="button" data-sort="name">County</button></th>
              <th scope="col"><button type="button" data-sort="date">Latest day</button></th>
              <th scope="col" class="num"><button type="button" data-sort="cases">Cases</button></th>
              <th scope="col" class="num"><button type="button" data-sort="deaths">Deaths</button></th>
              <th scope="col" class="num"><button type="button" data-sort="newCases7d">New cases, 7-day avg</button></th>
              <th scope="col" class="num"><button type="button" data-sort="newDeaths7d">New deaths, 7-day avg</button></th>
            </tr>
          </thead>
          <tbody id="county-rows"></tbody>
        </table>
      </div>
    </section>
  </main>

  <footer class="sources">
    <h2>Sources</h2>
    <ul>${attributions}
    </ul>
    <p>The two files are joined on the date; only dates present in both are shown. The JSON behind the charts is at <a href="/api/series">/api/series</a> (<code>?geo=48</code> for a state, <code>?geo=48201</code> for a county), <a href="/api/geos">/api/geos</a> and <a href="/api/status">/api/status</a>. States and counties: The New York Times alone (no recoveries).</p>
  </footer>
  <noscript><p class="message card">The charts need JavaScript. The data is at <a href="/api/series">/api/series</a>.</p></noscript>
</body>
</html>
`;
}
