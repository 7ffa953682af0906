/**
 * Personal data, the registry's rules: identity numbers are kept only as a keyed hash
 * (`hash`) and their last four characters; contacts' names and phones are sealed
 * (`encrypt`, bound to the application) with a keyed hash of the phone to match it; every
 * response and audit record shows the masked forms only. The keys are the kernel's
 * (`ctx.deps.kernel.personalData`, configured by the deployment's `personalData.key`).
 */
export { lastFour, maskName, maskPhone } from '@diandan/kernel';
import type { PersonalData } from '@diandan/kernel';

/** What the registry uses of the kernel's personal-data facility. */
export type PersonalDataKeys = Pick<PersonalData, 'hash' | 'encrypt' | 'decrypt'>;
