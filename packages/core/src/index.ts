export { assertChunkSize, chunkHash, chunkRawByMonth, MAX_CHUNK_BYTES, type RawMonthChunk } from './chunk.js';
export { ChunkTooLargeError, StructuralError, type StructuralErrorDetails } from './errors.js';
export {
  type CsvInput,
  extractJhuRows,
  extractNytRows,
  JHU_COLUMNS,
  MAX_RECORD_CHARS,
  NYT_COLUMNS,
} from './extract.js';
export {
  assertGeoPartSize,
  changedDays,
  chunksCoveredBy,
  GEO_PART_RECORD_BYTES,
  type GeoChunk,
  type GeoChunkPart,
  GeoChunkPlanner,
  geoPartMessage,
  planParts,
  planRevertParts,
  type RevertGeoDay,
  type RevertGeoPart,
} from './geo-chunk.js';
export {
  COUNTIES_COLUMNS,
  describeGeoRejection,
  extractGeoRows,
  type GeoExtractOptions,
  type GeoFileKind,
  type GeoRowResult,
  LEVEL_OF_FILE,
  STATES_COLUMNS,
} from './geo-extract.js';
export { escapeMrkdwn, oneLine, truncate } from './text.js';
export {
  type ChunkTransformResult,
  type SourcesTransformResult,
  transformChunk,
  transformSources,
  type UnmatchedDates,
} from './transform.js';
export { type JhuDay, type NytDay, type RowValidation, validateJhuRow, validateNytRow } from './validate.js';
