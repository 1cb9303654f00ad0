export function requiredMajor(pkg: { engines?: { node?: string } }): number;
export function systemNode(env?: { PATH?: string }): string | undefined;
export function majorOf(version: string): number;
