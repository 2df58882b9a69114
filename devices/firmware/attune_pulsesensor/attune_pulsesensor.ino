// Attune PulseSensor firmware for the Arduino Uno (ATmega328P, 16 MHz).
//
// Sensor: PulseSensor (pulsesensor.com) or any analog PPG module, signal on A0.
// Output, 115200 baud, PulseSensor's PROCESSING_VISUALIZER format (so other tools read it too):
//   # Attune PulseSensor 500 Hz     banner, once at start (each reset of the board)
//   S<signal>                       every sample, 500 per second, raw 10-bit ADC 0..1023
//   B<bpm>                          on each beat: 60000 / mean of the last 10 intervals
//   Q<ibi_ms>                       right after B: the interval that ended with this beat
//   # dropped <n> samples           only if the serial port could not keep up (should not happen)
//
// Why every sample rather than decimated: a line is at most 7 bytes ("S1023\r\n"), so 500 lines/s
// is 3500 bytes/s, about 30% of what 115200 baud carries (11520 bytes/s). Attune wants the
// whole 500 Hz waveform: the finer the sampling, the finer the beat timing for HRV.
//
// Timing: Timer2 in CTC mode fires every 2 ms. Its interrupt reads the ADC conversion started
// by the previous interrupt and immediately starts the next one, so the sampling instants are
// locked to the crystal (no analogRead() busy-wait inside the interrupt, no delay() drift).
// The interrupt also runs the beat detector (beat_detector.h, shared with Attune's host tests)
// and queues everything in a ring buffer; loop() does all the slow serial printing.
//
// No third-party library. Uses Timer2, so tone() and PWM on pins 3 and 11 are unavailable.

#include "beat_detector.h"

namespace {

const long kBaud = 115200;
const uint8_t kSignalAdcChannel = 0;  // A0 (ADC0) on the Uno
const uint8_t kLedPin = LED_BUILTIN;  // blinks on each beat: a quick check of finger placement
const unsigned long kLedOnMs = 80;

// Ring buffer entries: the low 14 bits carry a value, the top 2 bits say what it is.
// Samples are 0..1023, BPM < 241, IBI <= 2500 ms: all fit in 14 bits.
const uint16_t kTagMask = 0xC000;
const uint16_t kTagSample = 0x0000;
const uint16_t kTagBpm = 0x4000;
const uint16_t kTagIbi = 0x8000;
const uint16_t kValueMask = 0x3FFF;

// 128 entries = 256 ms of samples: loop() only has to come round once in that time.
// Power of two so the index wraps with a mask instead of a division.
const uint8_t kRingSize = 128;
const uint8_t kRingMask = kRingSize - 1;

volatile uint16_t g_ring[kRingSize];
volatile uint8_t g_head = 0;       // next slot the ISR writes; only the ISR changes it
volatile uint8_t g_tail = 0;       // next slot loop() reads; only loop() changes it
volatile uint8_t g_dropped = 0;    // entries lost to a full ring, reported by loop()

// Only the ISR touches the detector after setup(), so it needs no volatile or locking.
attune_fw::BeatDetector g_detector(2);  // 2 ms per sample

uint8_t g_tail_local = 0;          // loop()'s copy of g_tail
unsigned long g_led_on_at = 0;
bool g_led_on = false;

// Called from the ISR only.
inline void push(uint16_t entry) {
    const uint8_t head = g_head;
    const uint8_t next = (head + 1) & kRingMask;
    if (next == g_tail) {
        if (g_dropped < 255) ++g_dropped;
        return;
    }
    g_ring[head] = entry;
    g_head = next;  // publish after the entry is written
}

void startSampling() {
    // ADC: AVcc reference (as analogRead's DEFAULT), channel A0, clock 16 MHz / 128 = 125 kHz
    // (the full 10-bit accuracy needs 50-200 kHz). One conversion takes 13 ADC clocks = 104 us.
    ADMUX = _BV(REFS0) | (kSignalAdcChannel & 0x07);
    ADCSRB = 0;
    ADCSRA = _BV(ADEN) | _BV(ADPS2) | _BV(ADPS1) | _BV(ADPS0);
    DIDR0 |= _BV(ADC0D);   // A0's digital input buffer off: less noise, less current
    ADCSRA |= _BV(ADSC);   // first conversion, read by the first interrupt

    // Timer2, CTC mode (TOP = OCR2A), clock 16 MHz / 128 = 125 kHz, 250 counts = 2 ms = 500 Hz.
    // Overwrites the PWM setup the Arduino core gave Timer2.
    noInterrupts();
    TCCR2A = _BV(WGM21);
    TCCR2B = _BV(CS22) | _BV(CS20);
    OCR2A = 249;
    TCNT2 = 0;
    TIFR2 = _BV(OCF2A);    // drop a stale match flag
    TIMSK2 = _BV(OCIE2A);
    interrupts();
}

// Formats "<prefix><value>\r\n" into one write: fewer calls into Serial than print + println.
void printLine(char prefix, unsigned int value) {
    char line[9];
    line[0] = prefix;
    utoa(value, line + 1, 10);
    uint8_t len = 1;
    while (line[len] != '\0') ++len;
    line[len++] = '\r';
    line[len++] = '\n';
    Serial.write(reinterpret_cast<const uint8_t*>(line), len);
}

}  // namespace

ISR(TIMER2_COMPA_vect) {
    const int16_t signal = static_cast<int16_t>(ADC);  // conversion started 2 ms ago
    ADCSRA |= _BV(ADSC);                                // next sampling instant: now
    push(kTagSample | static_cast<uint16_t>(signal));
    if (g_detector.addSample(signal)) {
        push(kTagBpm | g_detector.bpm());
        push(kTagIbi | g_detector.ibi());
    }
}

void setup() {
    pinMode(kLedPin, OUTPUT);
    digitalWrite(kLedPin, LOW);
    Serial.begin(kBaud);
    Serial.println(F("# Attune PulseSensor 500 Hz"));
    Serial.flush();  // banner out before the samples start competing for the port
    startSampling();
}

void loop() {
    uint8_t head;
    uint8_t dropped;
    noInterrupts();  // a consistent snapshot of what the ISR has published
    head = g_head;
    dropped = g_dropped;
    g_dropped = 0;
    interrupts();

    if (dropped != 0) {
        Serial.print(F("# dropped "));
        Serial.print(dropped);
        Serial.println(F(" samples"));
    }

    while (g_tail_local != head) {
        const uint16_t entry = g_ring[g_tail_local];
        g_tail_local = (g_tail_local + 1) & kRingMask;
        g_tail = g_tail_local;  // one byte: the ISR sees either the old or the new value
        const uint16_t value = entry & kValueMask;
        switch (entry & kTagMask) {
        case kTagSample:
            printLine('S', value);
            break;
        case kTagBpm:
            printLine('B', value);
            digitalWrite(kLedPin, HIGH);
            g_led_on = true;
            g_led_on_at = millis();
            break;
        case kTagIbi:
            printLine('Q', value);
            break;
        default:
            break;
        }
    }

    if (g_led_on && millis() - g_led_on_at >= kLedOnMs) {
        digitalWrite(kLedPin, LOW);
        g_led_on = false;
    }
}
