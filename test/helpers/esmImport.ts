/**
 * `import()` that TypeScript's CommonJS output leaves alone: kubernetes-models and its CRD packages ship
 * ES modules only, and tsc would turn a plain import() into require().
 */
// eslint-disable-next-line @typescript-eslint/no-implied-eval
export const esmImport = new Function('specifier', 'return import(specifier)') as <T>(specifier: string) => Promise<T>;
