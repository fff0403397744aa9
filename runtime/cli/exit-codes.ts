export const EXIT_OK = 0;
/** a script or capture could not be used */
export const EXIT_BAD_INPUT = 1;
/** the command line was wrong */
export const EXIT_USAGE = 2;
/** --verify found packets on which the engines disagree */
export const EXIT_DISAGREE = 3;
