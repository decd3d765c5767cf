import { DataPanel } from './panels/DataPanel.tsx';
import { DropZone } from './panels/DropZone.tsx';
import { EnginePanel } from './panels/EnginePanel.tsx';
import { EvalPanel } from './panels/EvalPanel.tsx';
import { ModelPanel } from './panels/ModelPanel.tsx';
import { QuantizePanel } from './panels/QuantizePanel.tsx';
import { SessionBanner } from './panels/SessionBanner.tsx';
import { StatsPanel } from './panels/StatsPanel.tsx';

export function App() {
  return (
    <div className="studio">
      <header><h1>adfq-studio</h1><span className="tag">ViT quantization in your browser; nothing leaves this machine. Drop a model or image folders anywhere.</span></header>
      <EnginePanel />
      <SessionBanner />
      <DropZone />
      <div className="columns">
        <ModelPanel />
        <DataPanel />
      </div>
      <EvalPanel />
      <QuantizePanel />
      <StatsPanel />
    </div>
  );
}
