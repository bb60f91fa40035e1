/*
 * vega and vega-lite ship as ES modules with top-level await, which require() cannot load and which
 * tsc's CommonJS output would turn into require(). A Function-built import() stays a real dynamic import.
 */
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const dynamicImport = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

export async function importEsm<T>(specifier: string): Promise<T> {
  return (await dynamicImport(specifier)) as T;
}
