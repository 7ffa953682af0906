/** The kernel's version; plugins declare the range they support (`kernel: '^0.1.0'`). */
export const KERNEL_VERSION = '0.1.0';
