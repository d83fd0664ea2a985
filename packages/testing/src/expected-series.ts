import { readFileSync } from 'node:fs';

export interface ExpectedRecord {
  date: string;
  cases: number;
  deaths: number;
  recovered: number;
}

/**
 * The joined series computed independently of the pipeline (plain string handling, no CSV
 * library): NYT `date,cases,deaths` rows joined on date with the JHU US-national rows
 * (`Country/Region` = US, empty `Province/State`), keeping the dates present in both. For
 * end-to-end tests to compare the pipeline's table with.
 */
export function expectedSeries(nytFile: string, jhuFile: string): ExpectedRecord[] {
  const nytLines = readFileSync(nytFile, 'utf8')
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/);
  const nytHeader = (nytLines[0] ?? '').split(',');
  const [iDate, iCases, iDeaths] = ['date', 'cases', 'deaths'].map((name) => nytHeader.indexOf(name));
  const nyt = new Map<string, { cases: number; deaths: number }>();
  for (const line of nytLines.slice(1)) {
    if (!line.trim()) continue;
    const cells = line.split(',');
    nyt.set(cells[iDate as number] as string, {
      cases: Number(cells[iCases as number]),
      deaths: Number(cells[iDeaths as number]),
    });
  }
  const jhuLines = readFileSync(jhuFile, 'utf8').split(/\r?\n/);
  const jhuHeader = (jhuLines[0] ?? '').split(',');
  const iRecovered = jhuHeader.indexOf('Recovered');
  const recovered = new Map<string, number>();
  for (const line of jhuLines) {
    // US-national rows: "<date>,US,,…" (no quoted fields on these lines).
    if (!/^\d{4}-\d{2}-\d{2},US,,/.test(line)) continue;
    const cells = line.split(',');
    recovered.set(cells[0] as string, Number(cells[iRecovered]));
  }
  return [...nyt.entries()]
    .filter(([date]) => recovered.has(date))
    .map(([date, values]) => ({ date, ...values, recovered: recovered.get(date) as number }))
    .sort((a, b) => a.date.localeCompare(b.date));
}
