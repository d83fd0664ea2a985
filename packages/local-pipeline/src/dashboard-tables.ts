import {
  DataUnavailableError,
  type GeoCatalogSource,
  type GeoSeriesSource,
  type RunReader,
  type SeriesReader,
  type VersionReader,
} from '@covid-etl/dashboard';
import { LocalPipeline } from './pipeline.js';

/**
 * The local stack's two tables for the dashboard, opened on demand. The embedded database
 * (dynalite) can be open in one process at a time, and `pnpm etl run` needs it too: so the
 * dashboard opens it for a request and closes it again after `idleMs` without one, instead of
 * holding it while the server runs. While an `etl run` holds it, a read throws
 * `DataUnavailableError` (the API answers 503, the page says to try again).
 */
export class DashboardTables {
  readonly series: SeriesReader = { query: (range) => this.use((pipeline) => pipeline.series.query(range)) };
  readonly ledger: RunReader = { listRuns: (limit) => this.use((pipeline) => pipeline.ledger.listRuns(limit)) };
  readonly versions: VersionReader = {
    history: (date) => this.use((pipeline) => pipeline.series.versions.history(date)),
    changesOf: (runId) => this.use((pipeline) => pipeline.series.versions.changesOf(runId)),
  };
  readonly geos: GeoCatalogSource = {
    listGeos: () => this.use((pipeline) => pipeline.geos.listGeos()),
    getGeo: (id) => this.use((pipeline) => pipeline.geos.getGeo(id)),
    listCounties: (state) => this.use((pipeline) => pipeline.geos.listCounties(state)),
  };
  readonly geoSeries: GeoSeriesSource = {
    query: (geo, range) => this.use((pipeline) => pipeline.geoSeries.query(geo, range)),
  };
  private opening: Promise<LocalPipeline> | undefined;
  private users = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The previous close: a reopen waits for it (one open database per folder and process). */
  private closing: Promise<void> = Promise.resolve();

  constructor(
    readonly dir: string,
    private readonly idleMs = 2_000,
  ) {}

  /** Runs `work` with the stack open; the last user out starts the idle timer. */
  async use<T>(work: (pipeline: LocalPipeline) => Promise<T>): Promise<T> {
    if (this.closed) throw new DataUnavailableError('The dashboard server is stopping');
    clearTimeout(this.idleTimer);
    this.users += 1;
    try {
      return await work(await this.open());
    } finally {
      this.users -= 1;
      if (this.users === 0 && !this.closed) {
        this.idleTimer = setTimeout(() => void this.release(), this.idleMs);
        this.idleTimer.unref();
      }
    }
  }

  /** Closes the database (if open) and refuses further reads. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idleTimer);
    await this.release();
  }

  private open(): Promise<LocalPipeline> {
    this.opening ??= this.closing
      .then(() => LocalPipeline.open({ dir: this.dir }))
      .catch((error: unknown) => {
        this.opening = undefined;
        if (error instanceof Error && error.name === 'LocalDynamoError') {
          throw new DataUnavailableError(
            `The local stack is busy (${error.message}); an "etl run" is probably loading data: reload in a moment`,
            { cause: error },
          );
        }
        throw error;
      });
    return this.opening;
  }

  private async release(): Promise<void> {
    const opening = this.opening;
    if (!opening || this.users > 0) return;
    this.opening = undefined;
    this.closing = opening.then(
      (pipeline) => pipeline.close(),
      () => undefined,
    );
    await this.closing;
  }
}
