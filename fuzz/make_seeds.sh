#!/usr/bin/env bash
# Regenerates the committed seed corpora in fuzz/corpus/ from the project's own files and small
# excerpts of ../shared/data. Seeds are kept small (< 8 KB) so libFuzzer mutates them quickly.
set -euo pipefail
cd "$(dirname "$0")"
shared="${ATTUNE_SHARED_DATA_DIR:-../../shared/data}"
c=corpus
rm -rf "$c"; mkdir -p "$c"/{sensor_decoder,line_framer,text_reader,wfdb,analyze,session_load,preset_json,program_json}

# Sensor lines, one seed per format of shared/PROTOCOLS.md (first two bytes: configuration).
i=0
while IFS= read -r body; do
  printf '\x00\x10%b' "$body" > "$c/sensor_decoder/fmt$i"; i=$((i+1))
done <<'LINES'
Welcome to the sketch\r\nS527\r\nS530\r\nS540\r\nB72\r\nQ833\r\nS512\r\nS500\r\nS520\r\nS531\r\nS533\r\nS529\r\nB71\r\nQ845\r\nS512\r\n
72,833,527\r\n72,833,530\r\n72,833,541\r\n73,820,560\r\n73,820,512\r\n73,820,500\r\n73,820,499\r\n73,820,505\r\n73,820,510\r\n
527,72,833,0\r\n530,72,833,1\r\n560,72,833,0\r\n512,73,820,0\r\n500,73,820,0\r\n499,73,820,1\r\n505,73,820,0\r\n510,73,820,0\r\n
527,498\r\n530,497\r\n540,499\r\n560,503\r\n512,480\r\n500,470\r\n499,488\r\n505,490\r\n510,491\r\n520,493\r\n
512\n515\n530\n560\n600\n540\n512\n500\n498\n505\n!\n!\n!\n512\n520\n530\n
 R[1234] IR[56789] G[321] Hz[99.87]\r\n R[1235] IR[56770] G[322] Hz[99.80]\r\n R[1236] IR[56750] G[320] Hz[99.81]\r\n R[1237] IR[56700] G[319]\r\n
IR=56789, BPM=72.29, Avg BPM=70\r\nIR=56780, BPM=72.29, Avg BPM=70\r\nIR=1200, BPM=0.00, Avg BPM=0 No finger?\r\nIR=56700, BPM=73.10, Avg BPM=71\r\n
Press any key to start conversion\r\nred=41234, ir=56789, HR=72, HRvalid=1, SPO2=97, SPO2Valid=1\r\nred=41230, ir=56780\r\nred=41231, ir=56781\r\n
BPM: 72\r\nBPM: 73\r\n72 bpm\r\n\xe2\x99\xa5  A HeartBeat Happened ! \r\nBPM: 74\r\n
Signal 527\r\nSignal 530\r\nSignal 541\r\nSignal 560\r\nSignal 512\r\nSignal 500\r\n
Signal:527 BPM:72\r\nSignal:530 BPM:72\r\nSignal:540 BPM:72\r\nSignal:560 BPM:73\r\nSignal:512 BPM:73\r\n
Timestamp,Red,IR\r\n12345,41234,56789\r\n12355,41230,56780\r\n12365,41228,56770\r\n12375,41220,56760\r\n
IR=56789,RED=41234,T=12345\r\nIR=56780,RED=41230,T=12355\r\nIR=56770,RED=41228,T=12365\r\n
56789,41234\r\n56780\t41230\r\n56770,41228\r\n56760,41226\r\n56750,41224\r\n
{"signal":527,"bpm":72,"ibi":833}\r\n{"signal":530,"bpm":72,"ibi":833,"beat":1}\r\n{"t":12,"signal":540}\r\n{"ms":22,"signal":541}\r\n
S:512\r\nS=515\r\nsig:520\r\nsample=530\r\nraw=540\r\nS:560\r\nS:512\r\n
a527\r\nb498\r\nA72\r\nM833\r\na530\r\nb497\r\nB73\r\nN820\r\n
LINES
printf '\x05\x00\x80\x81\xff\xfe\x00\x00\x13\x11garbage\rmore\n\r\n' > "$c/sensor_decoder/noise"

printf '\x10abc\r\ndef\nghi\rjk\x00l\x07m\tn\r\n\xc3\xa9t\xc3\r\n' > "$c/line_framer/mixed"
printf '\x84%0200d\n12\r\n' 0 > "$c/line_framer/overlong"

printf '\x00time,signal,ir\n0,1,2\n0.01,"3",\n0.02,NaN,5\n0.03,,7\n' > "$c/text_reader/csv"
printf '\x11# comment\n1\t2\t3\n4\t5\n\n7\t8\t9\r\n' > "$c/text_reader/tsv"
printf '\x04812\n812.5 # note\n8.125e2\n\xef\xbb\xbf900\nabc\n-5\n' > "$c/text_reader/rr"
head -c 3000 "$shared/ppg/heartpy-data-100hz.csv" | sed '$d' | { printf '\x01'; cat; } > "$c/text_reader/ppg"

{ cat "$shared/ecg/100.hea"; printf '\n@@DATA@@\n'; head -c 3000 "$shared/ecg/100.dat"; } > "$c/wfdb/mitbih212"
{ sed 's/ 650000/ 1000/' "$shared/ecg/100.hea" | sed 's/ -\?[0-9]\+ 0 MLII/ 0 0 MLII/;s/ -\?[0-9]\+ 0 V5/ 0 0 V5/'; printf '\n@@DATA@@\n'; head -c 3000 "$shared/ecg/100.dat"; } > "$c/wfdb/short212"
{ head -3 "$shared/ecg/s0010_re.hea"; printf '\n@@DATA@@\n'; head -c 2000 "$shared/ecg/s0010_re.dat"; } > "$c/wfdb/ptb16"
head -c 2000 "$shared/ecg/100.atr" > "$c/wfdb/atr"

head -n 700 "$shared/ppg/heartpy-data-100hz.csv" | { printf '\x05'; cat; } > "$c/analyze/ppg100"
head -n 1500 "$shared/ecg/nstdb-118e24.csv" | { printf '\x0c'; cat; } > "$c/analyze/ecg360"
head -n 300 "$shared/rr/rest-rri.txt" | { printf '\x02'; cat; } > "$c/analyze/rr"

fx=../tests/core/fixtures/session-basic
{ cat "$fx/session.json"; for f in beats.csv waveform.csv pacer.csv metrics.csv events.csv; do printf '\n@@FILE@@\n'; head -n 40 "$fx/$f"; done
  printf '\n@@FILE@@\n{"resonance_rate_bpm": 5.5, "notes": "x", "extra": [1,2]}\n'; } > "$c/session_load/basic"
{ sed 's/"complete"/"recording"/' "$fx/session.json"; for f in beats.csv waveform.csv pacer.csv metrics.csv events.csv; do printf '\n@@FILE@@\n'; head -n 20 "$fx/$f" | head -c -3; done; } > "$c/session_load/interrupted"

for f in ../assets/presets/*.json; do cp "$f" "$c/preset_json/$(basename "$f" .json)"; done
printf '{"preset_id":"custom","show_heart_trace":true,"text_scale":1.2,"custom_pattern":{"id":"c","inhale_s":4,"exhale_s":6,"ramp":{"from_bpm":7,"to_bpm":5,"over_s":120}}}\n' > "$c/preset_json/settings"
for f in ../assets/programs/*.json; do cp "$f" "$c/program_json/$(basename "$f" .json)"; done
printf '{"id":"short","name":"Short","description":"d","steps":[{"kind":"arrive","duration_s":20,"prompts":[{"at_s":0,"text":"Arrive"}]},{"kind":"paced","duration_s":40,"preset":"box"},{"kind":"ramp","duration_s":40,"to_bpm":6,"fallback_from_bpm":9},{"kind":"paced","duration_s":30,"pattern":{"id":"p","inhale_s":4,"exhale_s":6}},{"kind":"rating","duration_s":10,"question":"How tense?","key":"distress_after"},{"kind":"closing","duration_s":10}]}\n' > "$c/program_json/short"
echo "seeds: $(find "$c" -type f | wc -l) files, $(du -sh "$c" | cut -f1)"
