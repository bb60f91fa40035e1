import type { TopLevelSpec } from 'vega-lite/build/index';
import type * as Vega from 'vega';
import { importEsm } from './esmImport';

interface VegaLiteModule {
  compile(spec: TopLevelSpec): { spec: Vega.Spec };
}

/** Exported by vega but missing from its typings. */
interface VegaRandom {
  setRandom(r: () => number): void;
  randomLCG(seed: number): () => number;
}

export interface SvgRenderer {
  /** Vega-Lite → SVG text, headless (no canvas, no DOM). */
  render(spec: TopLevelSpec): Promise<string>;
  /** Vega-Lite → the compiled Vega spec (what the report embeds). */
  compile(spec: TopLevelSpec): Vega.Spec;
}

/** Loads vega and vega-lite once; every render uses renderer 'none' and a fixed random seed, so SVGs are deterministic. */
export async function createSvgRenderer(): Promise<SvgRenderer> {
  const vega = await importEsm<typeof Vega & VegaRandom>('vega');
  const vl = await importEsm<VegaLiteModule>('vega-lite');
  return {
    compile: (spec) => vl.compile(spec).spec,
    async render(spec) {
      vega.setRandom(vega.randomLCG(0));
      const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none', logLevel: vega.Warn });
      try {
        return await view.toSVG();
      } finally {
        view.finalize();
      }
    },
  };
}
