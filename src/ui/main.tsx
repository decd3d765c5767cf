import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { loadDemo, loseDeviceForTest, startEngine } from './actions.ts';
import { offerSavedSession } from './persist/restore.ts';
import { recoveryLog } from './recovery.ts';
import { useStudio } from './store.ts';
import './studio.css';

// Hooks for the e2e tests: the device-loss scenario (it can only make this page's own GPU device go away), and
// the runs' per-image predictions, which the page does not draw (plain data read from the store).
(window as unknown as { adfqDebug: object }).adfqDebug = {
  loseDevice: loseDeviceForTest,
  recoveryLog: () => recoveryLog,
  runPredictions: () => useStudio.getState().quantization.runs.map((r) => ({ label: r.label, predictions: r.predictions })),
};

createRoot(document.getElementById('root')!).render(<App />);
// Start the GPU engine and load the demo at once, so a newcomer sees a model within seconds.
// A session saved by an earlier visit is offered at the same time (persist/restore.ts).
void offerSavedSession();
void startEngine().then(async () => {
  try { await loadDemo(); } catch (e) { console.error('demo failed to load', e); }
});
