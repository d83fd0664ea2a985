/**
 * zod's English messages for every schema of the project. The schemas use `zod/mini` (its
 * functions are tree-shaken per Lambda and its schemas cost less to build at module init than
 * the classic API's), which ships no locale: without this, every issue would read "Invalid
 * input". Each schema module imports this file first; `package.json` lists it under
 * `sideEffects` so that bundlers keep it.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());
