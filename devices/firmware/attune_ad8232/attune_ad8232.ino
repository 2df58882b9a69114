// Attune AD8232 ECG firmware for the Arduino Uno (ATmega328P, 16 MHz).
//
// Sensor: AD8232 single-lead heart monitor board (e.g. SparkFun SEN-12650), powered from 3.3 V.
//   OUTPUT -> A0, LO+ -> D10, LO- -> D11 (the pins SparkFun's example uses).
// Output, 115200 baud, one line per sample, exactly 250 samples per second:
//   # Attune AD8232 250 Hz        banner, once at start (each reset of the board)
//   <value>                       raw 10-bit ADC reading 0..1023
//   !                             instead of a value while a lead is off (LO+ or LO- high)
//   # dropped <n> samples         only if the serial port could not keep up (should not happen)
//
// Why a timer: SparkFun's example prints with delay(1) at 9600 baud, so its rate depends on the
// serial port (about 190 lines/s) and wanders; R-peak timing for HRV needs a fixed clock.
// Timer2 in CTC mode fires every 4 ms. Its interrupt reads the ADC conversion started by the
// previous interrupt and immediately starts the next, so samples are taken exactly 4 ms apart
// (crystal accuracy), and queues the reading in a ring buffer; loop() prints.
// At most 6 bytes a line ("1023\r\n"): 1500 bytes/s, 13% of what 115200 baud carries.
//
// No third-party library. Uses Timer2, so tone() and PWM on pins 3 and 11 are unavailable.

namespace {

const long kBaud = 115200;
const uint8_t kEcgAdcChannel = 0;   // A0 (ADC0) on the Uno
const uint8_t kLeadOffPlusPin = 10;
const uint8_t kLeadOffMinusPin = 11;

// A ring entry is the ADC value (0..1023) or this marker for "a lead is off".
const uint16_t kLeadsOff = 0xFFFF;

// 64 entries = 256 ms at 250 Hz. Power of two so the index wraps with a mask.
const uint8_t kRingSize = 64;
const uint8_t kRingMask = kRingSize - 1;

volatile uint16_t g_ring[kRingSize];
volatile uint8_t g_head = 0;       // next slot the ISR writes; only the ISR changes it
volatile uint8_t g_tail = 0;       // next slot loop() reads; only loop() changes it
volatile uint8_t g_dropped = 0;

// Lead-off pins read through their port registers: digitalRead() is fine too, but this keeps
// the interrupt to a few cycles. Filled in setup() from the pin numbers above.
volatile uint8_t* g_lo_plus_port = nullptr;
volatile uint8_t* g_lo_minus_port = nullptr;
uint8_t g_lo_plus_mask = 0;
uint8_t g_lo_minus_mask = 0;

uint8_t g_tail_local = 0;

void startSampling() {
    // ADC: AVcc reference (as analogRead's DEFAULT), channel A0, clock 16 MHz / 128 = 125 kHz.
    ADMUX = _BV(REFS0) | (kEcgAdcChannel & 0x07);
    ADCSRB = 0;
    ADCSRA = _BV(ADEN) | _BV(ADPS2) | _BV(ADPS1) | _BV(ADPS0);
    DIDR0 |= _BV(ADC0D);   // A0's digital input buffer off: less noise
    ADCSRA |= _BV(ADSC);   // first conversion, read by the first interrupt

    // Timer2, CTC mode (TOP = OCR2A), clock 16 MHz / 256 = 62.5 kHz, 250 counts = 4 ms = 250 Hz.
    noInterrupts();
    TCCR2A = _BV(WGM21);
    TCCR2B = _BV(CS22) | _BV(CS21);
    OCR2A = 249;
    TCNT2 = 0;
    TIFR2 = _BV(OCF2A);
    TIMSK2 = _BV(OCIE2A);
    interrupts();
}

void printValue(uint16_t value) {
    char line[8];
    utoa(value, line, 10);
    uint8_t len = 0;
    while (line[len] != '\0') ++len;
    line[len++] = '\r';
    line[len++] = '\n';
    Serial.write(reinterpret_cast<const uint8_t*>(line), len);
}

}  // namespace

ISR(TIMER2_COMPA_vect) {
    const uint16_t value = ADC;   // conversion started 4 ms ago
    ADCSRA |= _BV(ADSC);          // next sampling instant: now
    const bool leads_off = (*g_lo_plus_port & g_lo_plus_mask) || (*g_lo_minus_port & g_lo_minus_mask);
    const uint8_t head = g_head;
    const uint8_t next = (head + 1) & kRingMask;
    if (next == g_tail) {
        if (g_dropped < 255) ++g_dropped;
        return;
    }
    g_ring[head] = leads_off ? kLeadsOff : value;
    g_head = next;  // publish after the entry is written
}

void setup() {
    // The AD8232 drives LO+/LO- push-pull: plain inputs, no pull-ups.
    pinMode(kLeadOffPlusPin, INPUT);
    pinMode(kLeadOffMinusPin, INPUT);
    g_lo_plus_port = portInputRegister(digitalPinToPort(kLeadOffPlusPin));
    g_lo_minus_port = portInputRegister(digitalPinToPort(kLeadOffMinusPin));
    g_lo_plus_mask = digitalPinToBitMask(kLeadOffPlusPin);
    g_lo_minus_mask = digitalPinToBitMask(kLeadOffMinusPin);

    Serial.begin(kBaud);
    Serial.println(F("# Attune AD8232 250 Hz"));
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
        if (entry == kLeadsOff) {
            Serial.write(reinterpret_cast<const uint8_t*>("!\r\n"), 3);
        } else {
            printValue(entry);
        }
    }
}
