import { EnginePanel } from './panels/EnginePanel.tsx';
import { ModelPanel } from './panels/ModelPanel.tsx';
import { DataPanel } from './panels/DataPanel.tsx';
import { EvalPanel } from './panels/EvalPanel.tsx';

export function App() {
  return (
    <div className="studio">
      <header><h1>adfq-studio</h1><span className="tag">ViT quantization in your browser; nothing leaves this machine</span></header>
      <EnginePanel />
      <div className="columns">
        <ModelPanel />
        <DataPanel />
      </div>
      <EvalPanel />
    </div>
  );
}
