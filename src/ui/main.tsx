import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { loadDemo, startEngine } from './actions.ts';
import './studio.css';

createRoot(document.getElementById('root')!).render(<App />);
// Start the GPU engine and load the demo at once, so a newcomer sees a model within seconds.
void startEngine().then(async () => {
  try { await loadDemo(); } catch (e) { console.error('demo failed to load', e); }
});
