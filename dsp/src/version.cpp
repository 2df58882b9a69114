namespace attune::dsp {
const char* Version() { return "0.1.0"; }
}  // namespace attune::dsp
