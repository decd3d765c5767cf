// Dawn (the `webgpu` package) finds a Vulkan driver through VK_ICD_FILENAMES; default to lavapipe,
// the fastest software driver here (see README). An explicit setting wins.
import { existsSync } from 'node:fs';

const lavapipe = ['/usr/share/vulkan/icd.d/lvp_icd.json', '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json'].find(existsSync);
if (!process.env.VK_ICD_FILENAMES && lavapipe) process.env.VK_ICD_FILENAMES = lavapipe;
