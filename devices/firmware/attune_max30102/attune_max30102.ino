// Attune MAX30102 firmware for the Arduino Uno (ATmega328P, 16 MHz).
//
// Sensor: MAX30102 pulse oximeter breakout on I2C (SDA = A4, SCL = A5, address 0x57).
// Output, 115200 baud, one line per sample, 200 samples per second:
//   # Attune MAX30102 200 Hz          banner, each time the sensor is (re)found
//   IR=<ir>,RED=<red>,T=<millis>       18-bit raw counts (0..262143) and a timestamp in ms
//   ! MAX30102 not found — check SDA=A4, SCL=A5, 3.3V     every 3 s while the sensor is missing
//   # FIFO overflow: <n> samples lost   only if the serial port fell behind (should not happen)
// The pulse is a dip in IR and RED (more blood absorbs more light); the host inverts it.
//
// Plain register access with Wire.h, no third-party library. Registers and bit fields follow
// the Maxim MAX30102 datasheet (19-7740). The sensor samples on its own clock into a 32-entry
// FIFO; loop() polls the FIFO pointers and drains whatever has arrived. Timestamps: the batch
// read at millis() = t holds n samples, the newest taken at about t, the others 5 ms apart
// before it, so T is back-dated per sample instead of stamping a whole batch with one time.
//
// Needs the Arduino AVR core 1.8.3 or newer (any Arduino IDE from 2020 on) for
// Wire.setWireTimeout(), which keeps a bad I2C bus from hanging the sketch.

#include <Wire.h>

namespace {

const long kBaud = 115200;
const uint8_t kAddress = 0x57;  // 7-bit I2C address, fixed in the part

// Register map (datasheet table "Register Maps and Descriptions").
const uint8_t kRegIntStatus1 = 0x00;
const uint8_t kRegIntStatus2 = 0x01;
const uint8_t kRegIntEnable1 = 0x02;
const uint8_t kRegIntEnable2 = 0x03;
const uint8_t kRegFifoWrPtr = 0x04;  // 0x04..0x06 are read in one burst: WR_PTR, OVF, RD_PTR
const uint8_t kRegOvfCounter = 0x05;
const uint8_t kRegFifoRdPtr = 0x06;
const uint8_t kRegFifoData = 0x07;
const uint8_t kRegFifoConfig = 0x08;
const uint8_t kRegModeConfig = 0x09;
const uint8_t kRegSpo2Config = 0x0A;
const uint8_t kRegLed1Pa = 0x0C;     // LED1 = red
const uint8_t kRegLed2Pa = 0x0D;     // LED2 = infrared
const uint8_t kRegPartId = 0xFF;
const uint8_t kExpectedPartId = 0x15;

// MODE_CONFIG bits.
const uint8_t kModeReset = 0x40;     // self-clearing
const uint8_t kModeSpo2 = 0x03;      // red and IR each sample (HR mode 0x02 would be red only)

// FIFO_CONFIG: SMP_AVE[7:5] = 001 (average 2 ADC samples per FIFO sample), FIFO_ROLLOVER_EN[4]
// = 1 (when full, keep the newest data; the overflow counter says how much was lost),
// FIFO_A_FULL[3:0] unused (no interrupt pin needed: we poll).
const uint8_t kFifoConfig = (0x1 << 5) | (1 << 4);

// SPO2_CONFIG: SPO2_ADC_RGE[6:5] = 11 (16384 nA full scale: a bright finger does not clip),
// SPO2_SR[4:2] = 011 (400 ADC samples/s; averaged by 2 above = 200 samples/s out, 5 ms apart),
// LED_PW[1:0] = 11 (411 us pulses, 18-bit resolution; 400/s is the most SpO2 mode allows at 411 us).
const uint8_t kSpo2Config = (0x3 << 5) | (0x3 << 2) | 0x3;
const unsigned long kSamplePeriodMs = 5;

// LED currents, 0.2 mA per step: 0x24 = 7.2 mA. Raise them (up to 0xFF = 51 mA) if the IR
// reading with a finger on the sensor stays low; lower them if it sits near 262143 (clipped).
const uint8_t kRedCurrent = 0x24;
const uint8_t kIrCurrent = 0x24;

const uint8_t kFifoDepth = 32;
const uint8_t kBytesPerSample = 6;   // 3 bytes red, then 3 bytes IR
// Wire's buffer holds 32 bytes: read at most 5 samples (30 bytes) per I2C transaction.
const uint8_t kSamplesPerRead = 5;
const unsigned long kRetryMs = 3000;

bool g_sensor_ok = false;
bool g_tried_once = false;
unsigned long g_last_try_ms = 0;

bool writeRegister(uint8_t reg, uint8_t value) {
    Wire.beginTransmission(kAddress);
    Wire.write(reg);
    Wire.write(value);
    return Wire.endTransmission() == 0;  // 0 = acknowledged; 2/3 = no answer; 5 = timeout
}

bool readRegisters(uint8_t reg, uint8_t* out, uint8_t count) {
    Wire.beginTransmission(kAddress);
    Wire.write(reg);
    if (Wire.endTransmission(false) != 0) return false;  // repeated start: the part supports it
    if (Wire.requestFrom(kAddress, count) != count) return false;
    for (uint8_t i = 0; i < count; ++i) out[i] = static_cast<uint8_t>(Wire.read());
    return true;
}

bool initSensor() {
    uint8_t part = 0;
    if (!readRegisters(kRegPartId, &part, 1) || part != kExpectedPartId) return false;

    if (!writeRegister(kRegModeConfig, kModeReset)) return false;
    // The reset bit clears itself when the part is ready (datasheet: well under 1 ms); give it 100 ms.
    const unsigned long start = millis();
    uint8_t mode = kModeReset;
    while ((mode & kModeReset) != 0) {
        if (millis() - start > 100) return false;
        if (!readRegisters(kRegModeConfig, &mode, 1)) return false;
    }

    bool ok = true;
    ok = ok && writeRegister(kRegIntEnable1, 0x00);  // polling: no interrupts wanted
    ok = ok && writeRegister(kRegIntEnable2, 0x00);
    ok = ok && writeRegister(kRegFifoConfig, kFifoConfig);
    ok = ok && writeRegister(kRegSpo2Config, kSpo2Config);
    ok = ok && writeRegister(kRegLed1Pa, kRedCurrent);
    ok = ok && writeRegister(kRegLed2Pa, kIrCurrent);
    // Empty FIFO before sampling starts, so the first read has no stale data.
    ok = ok && writeRegister(kRegFifoWrPtr, 0x00);
    ok = ok && writeRegister(kRegOvfCounter, 0x00);
    ok = ok && writeRegister(kRegFifoRdPtr, 0x00);
    ok = ok && writeRegister(kRegModeConfig, kModeSpo2);  // starts sampling
    uint8_t status[2];
    ok = ok && readRegisters(kRegIntStatus1, status, 2);  // reading clears PWR_RDY
    return ok;
}

void reportMissing() {
    // UTF-8 em dash, as in Attune's documentation; "!" first marks it as an error line.
    Serial.println(F("! MAX30102 not found — check SDA=A4, SCL=A5, 3.3V"));
}

// "IR=<ir>,RED=<red>,T=<ms>\r\n" (at most 35 bytes) in a single write.
void printSample(uint32_t ir, uint32_t red, uint32_t t_ms) {
    char line[40];
    uint8_t len = 0;
    const char* parts[3] = {"IR=", ",RED=", ",T="};
    const uint32_t values[3] = {ir, red, t_ms};
    for (uint8_t p = 0; p < 3; ++p) {
        for (const char* c = parts[p]; *c != '\0'; ++c) line[len++] = *c;
        ultoa(values[p], line + len, 10);
        while (line[len] != '\0') ++len;
    }
    line[len++] = '\r';
    line[len++] = '\n';
    Serial.write(reinterpret_cast<const uint8_t*>(line), len);
}

uint32_t decode18(const uint8_t* b) {
    // Three bytes, MSB first; only the low 18 bits are data (datasheet "FIFO Data Register").
    return ((static_cast<uint32_t>(b[0]) << 16) | (static_cast<uint32_t>(b[1]) << 8) | b[2]) & 0x3FFFFUL;
}

// Reads whatever the FIFO holds. Returns false if the sensor stopped answering.
bool drainFifo() {
    uint8_t ptrs[3];  // WR_PTR, OVF_COUNTER, RD_PTR
    if (!readRegisters(kRegFifoWrPtr, ptrs, 3)) return false;
    const uint8_t wr = ptrs[0] & 0x1F;
    const uint8_t ovf = ptrs[1] & 0x1F;
    const uint8_t rd = ptrs[2] & 0x1F;
    uint8_t available = (wr - rd) & 0x1F;
    if (available == 0 && ovf != 0) available = kFifoDepth;  // full: pointers equal again
    if (ovf != 0) {
        Serial.print(F("# FIFO overflow: "));
        Serial.print(ovf);
        Serial.println(F(" samples lost"));
    }
    if (available == 0) return true;

    const uint32_t now = millis();
    uint8_t remaining = available;
    while (remaining > 0) {
        const uint8_t batch = remaining < kSamplesPerRead ? remaining : kSamplesPerRead;
        uint8_t bytes[kSamplesPerRead * kBytesPerSample];
        // FIFO_DATA does not auto-increment the register address: each byte read pops the FIFO.
        if (!readRegisters(kRegFifoData, bytes, batch * kBytesPerSample)) return false;
        for (uint8_t i = 0; i < batch; ++i) {
            const uint8_t* s = bytes + i * kBytesPerSample;
            const uint32_t red = decode18(s);
            const uint32_t ir = decode18(s + 3);
            --remaining;  // samples still behind this one: it is that many periods older than now
            printSample(ir, red, now - remaining * kSamplePeriodMs);
        }
    }
    return true;
}

}  // namespace

void setup() {
    Serial.begin(kBaud);
    Wire.begin();
    Wire.setClock(400000);  // the part supports fast mode; 200 samples/s x 6 bytes is easy at 400 kHz
    // A missing pull-up or a stuck bus would otherwise hang Wire forever; 25 ms, then reset TWI.
    Wire.setWireTimeout(25000, true);
}

void loop() {
    if (!g_sensor_ok) {
        if (g_tried_once && millis() - g_last_try_ms < kRetryMs) return;
        g_tried_once = true;
        g_last_try_ms = millis();
        if (initSensor()) {
            g_sensor_ok = true;
            Serial.println(F("# Attune MAX30102 200 Hz"));
        } else {
            reportMissing();
        }
        return;
    }
    if (!drainFifo()) {
        // Unplugged or a loose wire: say so, then keep retrying every few seconds.
        g_sensor_ok = false;
        g_last_try_ms = millis();
        reportMissing();
    }
}
