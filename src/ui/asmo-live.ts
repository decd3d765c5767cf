/**
 * The ASMO slice's reducer: what each event of a running module-wise optimisation changes. A plain
 * function of the slice and the event, so it is tested without a worker.
 */
import type { AsmoLiveEvent } from '../engine/asmo/settings.ts';
import type { AsmoLive } from './store.ts';

export function applyAsmoEvent(live: AsmoLive, e: AsmoLiveEvent): Partial<AsmoLive> {
  switch (e.type) {
    case 'phase':
      return { phase: e.text };
    case 'module-start':
      return { current: { index: e.index, total: e.total, name: e.name }, total: e.total, points: [], rounding: null, phase: '' };
    case 'losses':
      if (live.current && live.current.index !== e.index) return {};
      return { points: [...live.points, ...e.points], rounding: e.rounding ?? live.rounding };
    case 'module-done':
      // The report's curve is the module's whole sampled curve: it replaces the streamed points.
      return {
        modules: [...live.modules, e.report],
        ...(live.current?.index === e.index ? { points: e.report.curve, rounding: e.report.rounding } : {}),
      };
    case 'accuracy':
      return { accuracy: [...live.accuracy, e.point] };
  }
}
