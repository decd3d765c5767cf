import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { loadDemo, loseDeviceForTest, startEngine } from './actions.ts';
import './studio.css';

// A hook for the e2e tests' device-loss scenario; it can only make this page's own GPU device go away.
(window as unknown as { adfqDebug: object }).adfqDebug = { loseDevice: loseDeviceForTest };

createRoot(document.getElementById('root')!).render(<App />);
// Start the GPU engine and load the demo at once, so a newcomer sees a model within seconds.
void startEngine().then(async () => {
  try { await loadDemo(); } catch (e) { console.error('demo failed to load', e); }
});
